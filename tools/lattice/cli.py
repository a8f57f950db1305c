"""The lattice's command line: each area adds its own subcommands (see `add_*_commands`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .config import LatticeConfigError
from .guards import add_guard_commands
from .peer import add_peer_commands
from .promote import add_promote_commands
from .sdk import add_gen_commands
from .serve import add_serve_commands
from .services.base import ServiceUnavailable
from .services.cli import add_services_commands
from .spec import add_spec_commands


class _Parser(argparse.ArgumentParser):
    """Usage mistakes cost one line, not a usage dump (subparsers inherit this class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m tools.lattice", description="The Retrace test lattice.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_services_commands(subparsers)
    add_serve_commands(subparsers)
    add_guard_commands(subparsers)
    add_promote_commands(subparsers)
    add_spec_commands(subparsers)
    add_gen_commands(subparsers)
    add_peer_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (ServiceUnavailable, LatticeConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        # Commands beyond `services` and `serve` need the test extra; say so instead of a traceback.
        print(
            f"lattice: `{args.command}` needs the package {exc.name!r}: run it through nox "
            f"(`nox -s {args.command}`) or `pip install -e '.[test]'` first",
            file=sys.stderr,
        )
        return 2
    return code
