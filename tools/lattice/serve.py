"""`python -m tools.lattice serve` (behind `nox -s serve`): Retrace on a service set, zero setup.

Asks the service-set module for PostgreSQL and Redis (embedded on a bare machine), points the
service's settings at them and at a data dir for mail and attachments, and runs `retrace serve`.
Ctrl-C (or SIGTERM, which is what nox sends when it alone is interrupted) stops the service, then
the servers: nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.settings import Settings, SettingsError, load_settings
from tools.lattice import interrupts
from tools.lattice.livestack import settings_env
from tools.lattice.ports import can_listen, next_free
from tools.lattice.services import start_services
from tools.lattice.services.base import ServiceUnavailable
from tools.lattice.services.process import die_with_parent

DATA_DIR = Path(".retrace")
SERVICE_STOP_TIMEOUT = 20.0


def _service_settings(base: Settings, database_url: str, redis_url: str, data_dir: Path) -> Settings:
    defaults = Settings.model_fields
    update: dict[str, Any] = {"database_url": database_url, "redis_url": redis_url}
    # Mail and attachments go under the data dir, unless the user chose places of their own.
    if base.mailer == defaults["mailer"].default:
        update["mailer"] = f"maildir:{(data_dir / 'mail').resolve()}"
    if base.blob_dir == defaults["blob_dir"].default:
        update["blob_dir"] = (data_dir / "blobs").resolve()
    return base.model_copy(update=update)


def _check_port(host: str, port: int) -> None:
    if can_listen(host, port):
        return
    other = next_free(host, port)
    suggestion = f"nox -s serve -- --port {other}" if other else "nox -s serve -- --port N"
    raise ServiceUnavailable(f"lattice: port {port} on {host} is already taken; try `{suggestion}`")


def _forget_files_of_old_databases(settings: Settings, base: Settings) -> None:
    """A fresh database knows no attachment or sign-in code: drop the files an earlier run left in
    the data dir (only the defaults we chose; a dir the user set is theirs)."""
    defaults = Settings.model_fields
    stale = []
    if base.blob_dir == defaults["blob_dir"].default:
        stale.append(Path(settings.blob_dir))
    if base.mailer == defaults["mailer"].default:
        stale.append(Path(settings.mailer.removeprefix("maildir:")))
    removed = [path for path in stale if path.is_dir() and any(path.iterdir())]
    for path in removed:
        shutil.rmtree(path)
    if removed:
        print(
            f"  removed what the last run left in {', '.join(str(p) for p in removed)} (its database is gone)"
        )


def _run_service(command: list[str], env: dict[str, str]) -> int:
    """Run `retrace serve` until it ends or we are interrupted; then stop it (API, then worker)."""
    # Its own session: a terminal's Ctrl-C reaches only us, and we send it exactly one SIGINT.
    child = subprocess.Popen(command, env=env, preexec_fn=die_with_parent(), start_new_session=True)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=SERVICE_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0


def _serve(args: argparse.Namespace) -> int:
    interrupts.install()
    interrupts.stop_with_parent()
    # A bad RETRACE_* value or a taken port is reported before any server is started for nothing.
    try:
        base = load_settings()
    except SettingsError as exc:
        raise ServiceUnavailable(str(exc)) from None
    _check_port(args.host, args.port)
    with start_services(args.provider) as services:
        settings = _service_settings(base, services.database_url, services.redis_url, args.data_dir)
        if services.provider != "external":
            _forget_files_of_old_databases(settings, base)
        print(f"lattice: {services.provider} service set {services.id}")
        print(f"  RETRACE_DATABASE_URL={services.database_url}")
        print(f"  RETRACE_REDIS_URL={services.redis_url}")
        print(f"  data dir: {args.data_dir.resolve()}")
        print(f"  mail (sign-in codes) goes to: {settings.mailer.removeprefix('maildir:')}/new")
        if services.provider != "external":
            print("  the database lives as long as this command: Ctrl-C stops the service and the servers")
        sys.stdout.flush()
        command = [sys.executable, "-m", "app.cli", "serve", "--host", args.host, "--port", str(args.port)]
        env = {**os.environ, **settings_env(settings)}
        code = _run_service(command, env)
    if interrupts.shutting_down():
        print("lattice: stopped the service, then the servers", flush=True)
    return code


def add_serve_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run Retrace on a fresh service set (embedded by default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--provider", choices=["external", "containers", "embedded"], default=None)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where mail and attachments go")
    parser.set_defaults(handler=_serve)
