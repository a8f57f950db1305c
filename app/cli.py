"""`retrace migrate | worker | serve`: the service's command line."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging

from app.settings import Settings, SettingsError, load_settings

NEEDS_URLS = "retrace: set {missing} (or run `nox -s serve`, which starts PostgreSQL and Redis for you)"


def _settings(*, redis: bool = True) -> Settings:
    """The settings, insisting on the URLs the command uses (migrations touch only the database)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    missing = [
        name
        for name, value, needed in (
            ("RETRACE_DATABASE_URL", settings.database_url, True),
            ("RETRACE_REDIS_URL", settings.redis_url, redis),
        )
        if needed and value is None
    ]
    if missing:
        raise SystemExit(NEEDS_URLS.format(missing=" and ".join(missing)))
    return settings


def _migrate(settings: Settings) -> None:
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine, unreachable_reason
    from app.migrate import upgrade

    engine = make_engine(settings)
    try:
        upgrade(engine, settings)
    except OperationalError as exc:
        raise SystemExit(
            f"retrace: cannot reach the database at RETRACE_DATABASE_URL: {unreachable_reason(exc)}"
        ) from None
    finally:
        engine.dispose()


def cmd_migrate(_: argparse.Namespace) -> None:
    settings = _settings(redis=False)
    _migrate(settings)
    print(f"retrace: schema {settings.db_schema!r} is at the latest migration")


def cmd_revision(args: argparse.Namespace) -> None:
    from app.db import make_engine
    from app.migrate import new_revision

    settings = _settings(redis=False)
    _migrate(settings)  # autogenerate diffs the models against a schema at head
    engine = make_engine(settings)
    try:
        new_revision(engine, settings, args.message)
    finally:
        engine.dispose()


def cmd_worker(_: argparse.Namespace) -> None:
    from app.runtime import build_runtime
    from app.worker import run_worker

    runtime = build_runtime(_settings())
    gc.freeze()  # what start-up built lives as long as the process: no full GC pass need walk it
    try:
        run_worker(runtime)
    finally:
        runtime.close()


def cmd_api(args: argparse.Namespace) -> None:
    from app.runtime import build_runtime
    from app.server import run_api

    runtime = build_runtime(_settings())
    try:
        run_api(runtime, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log)
    finally:
        runtime.close()


def cmd_serve(args: argparse.Namespace) -> None:
    from app.runtime import build_runtime
    from app.server import run_api
    from app.worker import start_background

    settings = _settings()
    _migrate(settings)
    runtime = build_runtime(settings)
    background = start_background(runtime)
    print(f"retrace: API on http://{args.host}:{args.port} (docs at /docs)")
    print(f"retrace: worker consuming {runtime.ingestion.queue_name}")
    print(f"retrace: mail goes to {settings.mailer}; attachments to {settings.blob_dir}")
    try:
        # uvicorn owns SIGINT/SIGTERM: on Ctrl-C it returns here and the worker is stopped after it.
        run_api(runtime, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log)
    finally:
        background.stop()
        runtime.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retrace", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring RETRACE_DB_SCHEMA to the latest migration").set_defaults(
        run=cmd_migrate
    )
    revision = sub.add_parser("revision", help="write a new migration from what the models changed")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(run=cmd_revision)
    sub.add_parser("worker", help="run a Dramatiq worker on the ingestion queue").set_defaults(run=cmd_worker)
    serve = sub.add_parser("serve", help="migrate, then run the API and a worker together")
    api = sub.add_parser("api", help="run the API alone (the schema migrated, workers run elsewhere)")
    for command in (serve, api):
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument(
            "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
        )
        command.add_argument(
            "--no-access-log", dest="access_log", action="store_false", help="no line per request"
        )
    serve.set_defaults(run=cmd_serve)
    api.set_defaults(run=cmd_api)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        args.run(args)


if __name__ == "__main__":
    main()
