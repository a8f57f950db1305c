"""The spec guard: the committed OpenAPI document (openapi/retrace.json) is valid and is what the app builds.

`python -m tools.lattice spec` exits 1 with a unified diff when the app's document drifted from the
committed one, `--update` rewrites the committed file. Building the app connects to nothing, so this needs
no services. The guard then applies the version policy (tools/lattice/chain/specdiff/policy.py) to the app's
document against the one this branch started from; `spec diff` and `spec checks` are in
tools/lattice/chain/specdiff/command.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tools.lattice.chain.document import (
    DOCUMENT_PATH,
    SpecError,
    committed_document,
    drift,
    live_document,
    shown,
    update,
    validate_document,
)


def _run(args: argparse.Namespace) -> int:
    from tools.lattice.chain.specdiff.command import version_policy
    from tools.lattice.chain.specdiff.document import DiffInputError
    from tools.lattice.chain.specdiff.levels import LevelsError
    from tools.lattice.chain.specdiff.render import text as changes_text

    path = Path(args.path)
    try:
        if args.update:
            changed = update(path)
            print(f"spec: {shown(path)} {'rewritten' if changed else 'already up to date'}")
            result = version_policy(committed_document(path), args.since)
            for line in result.lines:  # a note: the guard (`spec` without --update) is what fails
                print(f"spec: {line}")
            return 0
        committed = committed_document(path)
        validate_document(committed)
        live = live_document()
        diff = drift(path, live)
        result = version_policy(live, args.since)
    except SpecError as exc:
        print(f"spec: {exc}", file=sys.stderr)
        return 1
    except (DiffInputError, LevelsError) as exc:
        print(f"spec: {exc}", file=sys.stderr)
        return 2
    if diff:
        from tools.lattice.chain.specdiff.command import classified

        sys.stdout.write(diff)
        print("spec: what the difference does to a client (committed → live):")
        sys.stdout.write(changes_text(classified(committed, live)))
        print(
            f"spec: the app's OpenAPI document differs from {shown(path)} (diff above); "
            "if the change is intended, run `python -m tools.lattice spec --update` and commit it",
            file=sys.stderr,
        )
        for line in result.lines:
            print(f"spec: {line}", file=sys.stderr if not result.ok else sys.stdout)
        return 1
    if not result.ok:
        for line in result.lines:
            print(f"spec: {line}", file=sys.stderr)
        return 1
    print(f"spec: {shown(path)} is valid and matches the app")
    for line in result.lines:
        print(f"spec: {line}")
    return 0


def add_spec_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "spec", help="check that the committed OpenAPI document is valid and matches the app"
    )
    parser.add_argument("--update", action="store_true", help="rewrite the committed document from the app")
    parser.add_argument("--path", default=str(DOCUMENT_PATH), help="the committed document")
    parser.add_argument(
        "--since",
        default=None,
        help="git ref the version policy compares against "
        "(default: $LATTICE_SPEC_BASE, else `git merge-base HEAD main`)",
    )
    parser.set_defaults(handler=_run)
    from tools.lattice.chain.specdiff.command import add_diff_commands

    add_diff_commands(parser.add_subparsers(dest="spec_command", metavar="ACTION"))
