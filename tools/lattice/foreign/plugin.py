"""The foreign-mode pytest plugin: `pytest -p tools.lattice.foreign.plugin --lattice-foreign-config FILE`.

Foreign apps build their settings and engine when their conftest is imported, so everything happens in
`pytest_load_initial_conftests`, before that import. The controller starts a service set, migrates a
template once, and hands the run to its xdist workers through the environment they inherit
(`PYTEST_XDIST_WORKER` is set before a worker's config exists; `workerinput` would arrive too late).
Each process then takes a database (or schema) of its own and points the suite's variables at it. The
controller drops everything the run made when pytest ends, on every path (pass, fail, Ctrl-C, a
bootstrap that failed half-way).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tools.lattice.foreign import databases
from tools.lattice.foreign.config import DbEnv, ForeignConfig, ForeignConfigError, load_config, read_dotenv
from tools.lattice.services import ServiceUnavailable, start_services

HANDOFF = "LATTICE_FOREIGN_RUN"
OPTION = "lattice_foreign_config"


@dataclass(frozen=True)
class Handoff:
    """What the controller tells its workers: the run, the server, and the template to clone."""

    run: str
    config: str
    admin_url: str
    template: str | None

    @property
    def prefix(self) -> str:
        return f"lattice_{self.run}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lattice-foreign", "the lattice's foreign mode")
    group.addoption(
        "--lattice-foreign-config",
        dest=OPTION,
        default=None,
        help="a foreign-mode TOML file (see docs/testing.md); overrides the ini option",
    )
    parser.addini(OPTION, "a foreign-mode TOML file, relative to the ini file's directory", default="")


def _config_path(config: pytest.Config) -> Path | None:
    given = getattr(config.known_args_namespace, OPTION, None)
    if given:
        return Path(given).resolve()
    ini = str(config.getini(OPTION) or "")
    if ini:
        return (config.rootpath / ini).resolve() if config.inipath is None else config.inipath.parent / ini
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    try:
        if worker is not None and HANDOFF in os.environ:
            handoff = Handoff(**json.loads(os.environ[HANDOFF]))
            _enter(load_config(Path(handoff.config)), handoff, worker)
            return
        path = _config_path(early_config)
        if path is None:
            raise pytest.UsageError("lattice foreign: give --lattice-foreign-config FILE (or the ini option)")
        config = load_config(path)
        handoff = _bootstrap(config, path, early_config.add_cleanup)
        os.environ[HANDOFF] = json.dumps(asdict(handoff))
        _enter(config, handoff, "main")
    except (ForeignConfigError, ServiceUnavailable) as exc:
        raise pytest.UsageError(str(exc)) from None


def _bootstrap(config: ForeignConfig, path: Path, on_exit: Callable[[Callable[[], None]], None]) -> Handoff:
    """Services and the template; everything registered for removal before it is made."""
    services = start_services()
    on_exit(services.stop)
    handoff = Handoff(
        run=secrets.token_hex(4),
        config=str(path),
        admin_url=services.database_url,
        template=None,
    )
    on_exit(lambda: _sweep(config, handoff))
    if config.isolation == "database":
        template = f"{handoff.prefix}_template"
        databases.create_database(handoff.admin_url, template)
        handoff = Handoff(**{**asdict(handoff), "template": template})
        template_url = databases.with_database(handoff.admin_url, template)
        databases.create_extensions(template_url, config.extensions)
        if config.migrate:
            _run_migration(
                config, {**os.environ, **_suite_env(config), **_database_env(config.db_env, template_url)}
            )
    elif config.isolation == "self":
        base = f"{handoff.prefix}_base"
        databases.create_database(handoff.admin_url, base)
        databases.create_extensions(databases.with_database(handoff.admin_url, base), config.extensions)
    else:
        databases.create_extensions(handoff.admin_url, config.extensions)
    return handoff


def _enter(config: ForeignConfig, handoff: Handoff, worker: str) -> None:
    """Give this process its database or schema, and the suite's environment pointing at it."""
    for entry in reversed(config.pythonpath):
        sys.path.insert(0, str(config.path(entry)))
    env = _suite_env(config)
    if config.isolation == "database":
        name = f"{handoff.prefix}_{worker}"
        databases.create_database(handoff.admin_url, name, template=handoff.template)
        env |= _database_env(config.db_env, databases.with_database(handoff.admin_url, name))
    elif config.isolation == "schema":
        schema = f"{handoff.prefix}_{worker}"
        databases.create_schema(handoff.admin_url, schema)
        env |= _database_env(config.db_env, handoff.admin_url)
        # libpq reads PGOPTIONS on every connection (psycopg 2 and 3; not asyncpg).
        env["PGOPTIONS"] = f"-c search_path={schema},public"
        if config.migrate:
            _run_migration(config, {**os.environ, **env})
    else:
        env |= _database_env(
            config.db_env, databases.with_database(handoff.admin_url, f"{handoff.prefix}_base")
        )
    os.environ.update(env)


def _suite_env(config: ForeignConfig) -> dict[str, str]:
    env: dict[str, str] = {}
    if config.dotenv:
        dotenv = config.path(config.dotenv)
        if not dotenv.is_file():
            raise ForeignConfigError(f"lattice foreign: `dotenv`: {dotenv} does not exist")
        env |= {k: v for k, v in read_dotenv(dotenv).items() if k not in os.environ}
    return env | config.env


def _database_env(names: DbEnv, url: str) -> dict[str, str]:
    """The suite's own variables for `url`: one URL variable, or host/port/user/password/name."""
    if names.url is not None:
        return {names.url: databases.libpq_url(url)}
    parts = urlsplit(url)
    values = {
        names.host: parts.hostname or "127.0.0.1",
        names.port: str(parts.port or 5432),
        names.user: unquote(parts.username or ""),
        names.password: unquote(parts.password or ""),
        names.name: parts.path.lstrip("/"),
    }
    return {name: value for name, value in values.items() if name is not None}


def _run_migration(config: ForeignConfig, env: dict[str, str]) -> None:
    paths = [str(config.path(p)) for p in config.pythonpath]
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # nothing written into the foreign project's tree
    # The tools of the venv pytest runs in (e.g. `alembic`), even when that venv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = shlex.split(config.migrate)
    try:
        done = subprocess.run(
            command, cwd=config.rootdir, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ForeignConfigError(
            f"lattice foreign: `migrate`: cannot run {command[0]!r}: {exc.strerror}"
        ) from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ForeignConfigError(
            f"lattice foreign: `migrate` ({config.migrate}) failed with exit {done.returncode}: {tail[0]}"
        )


def _sweep(config: ForeignConfig, handoff: Handoff) -> None:
    """Drop every database and schema of this run, and whatever matches `sweep`."""
    like = handoff.prefix.replace("_", r"\_") + "%"
    try:
        databases.drop_databases(handoff.admin_url, databases.databases_like(handoff.admin_url, like))
        databases.drop_schemas(handoff.admin_url, databases.schemas_like(handoff.admin_url, like))
        for pattern in config.sweep:
            databases.drop_databases(handoff.admin_url, databases.databases_like(handoff.admin_url, pattern))
    except Exception as exc:  # the server may be gone already (Ctrl-C stopped it): nothing is left there
        print(f"lattice foreign: sweep of run {handoff.run} skipped: {exc}", file=sys.stderr)
