"""`python -m tools.lattice serve` (behind `nox -s serve`): Retrace on a service set, zero setup.

Asks the service-set module for PostgreSQL and Redis (embedded on a bare machine), points the
service's settings at them and at a data dir for mail and attachments, and runs `retrace serve`.
Ctrl-C stops the service, then the servers: nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.settings import Settings, SettingsError, load_settings
from tools.lattice.livestack import settings_env
from tools.lattice.services import start_services
from tools.lattice.services.base import ServiceUnavailable
from tools.lattice.services.process import die_with_parent

DATA_DIR = Path(".retrace")


def _service_settings(base: Settings, database_url: str, redis_url: str, data_dir: Path) -> Settings:
    defaults = Settings.model_fields
    update: dict[str, Any] = {"database_url": database_url, "redis_url": redis_url}
    # Mail and attachments go under the data dir, unless the user chose places of their own.
    if base.mailer == defaults["mailer"].default:
        update["mailer"] = f"maildir:{(data_dir / 'mail').resolve()}"
    if base.blob_dir == defaults["blob_dir"].default:
        update["blob_dir"] = (data_dir / "blobs").resolve()
    return base.model_copy(update=update)


def _serve(args: argparse.Namespace) -> int:
    # A bad RETRACE_* value is reported before any server is started for nothing.
    try:
        base = load_settings()
    except SettingsError as exc:
        raise ServiceUnavailable(str(exc)) from None
    with start_services(args.provider) as services:
        settings = _service_settings(base, services.database_url, services.redis_url, args.data_dir)
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
        child = subprocess.Popen(command, env=env, preexec_fn=die_with_parent())
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the child as well; give it time to finish in-flight work.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                return child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                return child.wait()


def add_serve_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run Retrace on a fresh service set (embedded by default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--provider", choices=["external", "containers", "embedded"], default=None)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where mail and attachments go")
    parser.set_defaults(handler=_serve)
