"""`python -m tools.lattice serve` (behind `nox -s serve`): the app on a service set, zero setup.

Asks the service-set module for PostgreSQL and Redis (embedded on a bare machine), has the target point
the app's settings at them and at a data dir for its files, and runs the target's serve command.
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

from tools.lattice.seam.targeting import load_target
from tools.lattice.services import interrupts, start_services
from tools.lattice.services.base import ServiceUnavailable
from tools.lattice.services.ports import can_listen, next_free
from tools.lattice.services.process import die_with_parent

DATA_DIR = Path(".retrace")
SERVICE_STOP_TIMEOUT = 20.0


def _check_port(host: str, port: int) -> None:
    if can_listen(host, port):
        return
    other = next_free(host, port)
    suggestion = f"nox -s serve -- --port {other}" if other else "nox -s serve -- --port N"
    raise ServiceUnavailable(f"lattice: port {port} on {host} is already taken; try `{suggestion}`")


def _forget_files_of_old_databases(fresh_dirs: list[Path]) -> None:
    """A fresh database knows none of the files an earlier run left in the data dir: drop them (only
    dirs the target chose under the data dir; a dir the user set is theirs)."""
    removed = [path for path in fresh_dirs if path.is_dir() and any(path.iterdir())]
    for path in removed:
        shutil.rmtree(path)
    if removed:
        print(
            f"  removed what the last run left in {', '.join(str(p) for p in removed)} (its database is gone)"
        )


def _run_service(command: list[str], env: dict[str, str]) -> int:
    """Run the service until it ends or we are interrupted; then stop it (API, then worker)."""
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
    # A bad setting or a taken port is reported before any server is started for nothing.
    target = load_target()
    try:
        base = target.user_settings()
    except ValueError as exc:
        raise ServiceUnavailable(str(exc)) from None
    _check_port(args.host, args.port)
    with start_services(args.provider) as services:
        plan = target.serve_plan(base, services.database_url, services.redis_url, args.data_dir)
        if services.provider != "external":
            _forget_files_of_old_databases(plan.fresh_dirs)
        print(f"lattice: {services.provider} service set {services.id}")
        for line in plan.notes:
            print(line)
        if services.provider != "external":
            print("  the database lives as long as this command: Ctrl-C stops the service and the servers")
        sys.stdout.flush()
        env = {**os.environ, **plan.env}
        code = _run_service(target.serve_command(args.host, args.port), env)
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
