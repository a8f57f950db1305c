"""`python -m tools.lattice services up|status|down|reap`."""

from __future__ import annotations

import argparse
import signal
import time
from types import FrameType
from typing import Any

from tools.lattice.config import PROVIDERS, LatticeConfigError, load_settings
from tools.lattice.services import registry
from tools.lattice.services.base import ServiceSet, ServiceUnavailable, announce_to_stderr
from tools.lattice.services.state import StateDir, open_state_dir
from tools.lattice.services.tiers import start_services


class _Shutdown(Exception):
    """SIGTERM in the foreground: unwind like Ctrl-C so the set is stopped in order."""


def _state() -> StateDir:
    try:
        return open_state_dir(load_settings().state_dir)
    except LatticeConfigError as exc:
        raise ServiceUnavailable(str(exc)) from None


def _print_urls(service_set: ServiceSet, shell: bool) -> None:
    prefix = "export " if shell else ""
    print(f"{prefix}LATTICE_DATABASE_URL={service_set.database_url}")
    print(f"{prefix}LATTICE_REDIS_URL={service_set.redis_url}", flush=True)


def _up(args: argparse.Namespace) -> int:
    if args.detach:
        service_set = start_services(args.provider, detach=True)
        _print_urls(service_set, args.shell)
        if service_set.provider == "embedded":
            announce_to_stderr(
                f"lattice: {service_set.id} running detached; "
                f"stop it with: python -m tools.lattice services down {service_set.id}"
            )
        return 0

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise _Shutdown

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        service_set = start_services(args.provider)
    except _Shutdown:
        return 128 + signal.SIGTERM  # the tier's own cleanup already ran while unwinding
    try:
        _print_urls(service_set, args.shell)
        announce_to_stderr(f"lattice: {service_set.id} up ({service_set.provider}); Ctrl-C stops it")
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _Shutdown):
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not cut the shutdown short and leave half a set.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        service_set.stop()
    announce_to_stderr(f"lattice: {service_set.id} stopped")
    return 0


def _status(args: argparse.Namespace) -> int:
    runs = registry.list_runs(_state())
    if not runs:
        print("no service sets")
    for record in runs:
        print(registry.describe(record))
    return 0


def _down(args: argparse.Namespace) -> int:
    if bool(args.id) == bool(args.all):
        raise ServiceUnavailable(
            "lattice: services down needs a set id or --all (not both); see `services status`"
        )
    state = _state()
    if args.all:
        targets = registry.list_runs(state)
    else:
        record = registry.read_run(state, args.id)
        if record is None:
            raise ServiceUnavailable(f"lattice: no service set {args.id!r}; see `services status`")
        targets = [record]
    failed = 0
    for record in targets:
        failure = registry.shut_down(state, record)
        if failure is None:
            print(f"stopped {record.id}")
        else:
            failed += 1
            _engine_gone(record, failure)
    return 1 if failed else 0


def _engine_gone(record: registry.RunRecord, failure: str) -> None:
    announce_to_stderr(f"lattice: {record.id}: its Docker engine does not answer ({failure})")


def _reap(args: argparse.Namespace) -> int:
    left: list[str] = []

    def could_not(record: registry.RunRecord, failure: str) -> None:
        left.append(record.id)
        _engine_gone(record, failure)

    removed = registry.reap(_state(), left=could_not)
    for record in removed:
        print(f"reaped {record.id} (private dir {record.private_dir}, {len(record.servers)} server(s))")
    if not removed and not left:
        print("nothing to reap")
    return 1 if left else 0


def add_services_commands(subparsers: Any) -> None:
    """Register `services ...` on the top-level CLI's subparsers (argparse's private type: Any)."""
    services = subparsers.add_parser("services", help="real PostgreSQL + Redis sets")
    commands = services.add_subparsers(dest="services_command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start a set and print its URLs")
    up.add_argument("--provider", choices=PROVIDERS, help="force a provider (default: first that works)")
    up.add_argument("--detach", action="store_true", help="leave the servers running and return")
    up.add_argument("--shell", action="store_true", help="print `export NAME=value` lines")
    up.set_defaults(handler=_up)

    commands.add_parser("status", help="list running sets").set_defaults(handler=_status)

    down = commands.add_parser("down", help="stop a set (or all)")
    down.add_argument("id", nargs="?", help="set id from `services status`")
    down.add_argument("--all", action="store_true", help="stop every recorded set")
    down.set_defaults(handler=_down)

    commands.add_parser("reap", help="remove what dead runs left behind").set_defaults(handler=_reap)
