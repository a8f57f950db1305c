"""The lattice's command line: each area adds its own subcommands (see `add_*_commands`).

Only the module of the command asked for is imported: `services status` must not pay for the app,
Alembic and Hypothesis (≈ 4 s) that `guard` or `promote` need.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

NOX_SESSIONS = {
    "services",
    "containers",
    "serve",
    "promote",
    "spec",
    "gen",
    "peer",
    "report",
    "mutate",
    "coverage",
}
# command -> (module, function registering it), in the order `--help` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "services": ("tools.lattice.services.cli", "add_services_commands"),
    "containers": ("tools.lattice.services.dockersetup.cli", "add_containers_commands"),
    "serve": ("tools.lattice.live.serve", "add_serve_commands"),
    "guard": ("tools.lattice.plugin.guards", "add_guard_commands"),
    "promote": ("tools.lattice.engines.promote", "add_promote_commands"),
    "spec": ("tools.lattice.chain.spec", "add_spec_commands"),
    "gen": ("tools.lattice.chain.sdk", "add_gen_commands"),
    "peer": ("tools.lattice.engines.peer.command", "add_peer_commands"),
    "report": ("tools.lattice.report.command", "add_report_commands"),
    "coverage": ("tools.lattice.report.suite_coverage", "add_coverage_commands"),
    "mutate": ("tools.lattice.engines.mutate.command", "add_mutate_commands"),
}


class _Parser(argparse.ArgumentParser):
    """Usage mistakes cost one line, not a usage dump (subparsers inherit this class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _registrar(command: str) -> Callable[[Any], None]:
    module, function = COMMANDS[command]
    registrar: Callable[[Any], None] = getattr(importlib.import_module(module), function)
    return registrar


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's subcommands are imported and registered."""
    parser = _Parser(prog="python -m tools.lattice", description="The Retrace test lattice.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS if only is None else [only]:
        _registrar(command)(subparsers)
    return parser


def _first_command(argv: Sequence[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def _missing(command: str | None, exc: ModuleNotFoundError) -> int:
    """Every command needs the project's dependencies: say where they are, not a traceback."""
    name = command or "services"
    where = f"run it through nox (`nox -s {name} -- ...`)" if name in NOX_SESSIONS else "use nox"
    print(
        f"lattice: `{name}` needs the package {exc.name!r}, which this Python lacks: {where}, "
        "or install the lattice with its extras "
        "(`uv sync --extra test` here; `pip install 'retrace-lattice[services]'`)",
        file=sys.stderr,
    )
    return 2


# The one-line errors a command may raise, by the module that defines them. They are looked up among
# the modules the command imported (an exception's class is loaded before it can be raised), so
# `spec diff` of two files does not pay ≈ 2 s for pydantic-settings and the service sets.
_USER_ERRORS = (
    ("tools.lattice.config", "LatticeConfigError"),
    ("tools.lattice.services.base", "ServiceUnavailable"),
)


def _is_user_error(exc: BaseException) -> bool:
    loaded = (sys.modules.get(module) for module, _ in _USER_ERRORS)
    classes = tuple(getattr(m, name) for m, (_, name) in zip(loaded, _USER_ERRORS, strict=True) if m)
    return isinstance(exc, classes)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _first_command(argv)
    try:
        args = build_parser(command).parse_args(argv)
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        # pydantic, psycopg...: absent from the README's nox-only venv
        return _missing(command, exc)
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        print(exc, file=sys.stderr)
        return 2
    return code
