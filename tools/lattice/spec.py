"""The spec guard: the committed OpenAPI document (openapi/retrace.json) is valid and is what the app builds.

`python -m tools.lattice spec` exits 1 with a unified diff when the app's document drifted from the
committed one, `--update` rewrites the committed file. Building the app connects to nothing, so this needs
no services. The guard then applies the version policy (tools/lattice/specdiff/policy.py) to the app's
document against the one this branch started from; `spec diff` and `spec checks` are in
tools/lattice/specdiff/command.py.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_PATH = REPO_ROOT / "openapi" / "retrace.json"


class SpecError(Exception):
    """The document is invalid or drifted; the message says how, in a few lines."""


def live_document() -> dict[str, Any]:
    """The OpenAPI document of the app as the code builds it now."""
    # Imported here: the target pulls in the service-set machinery and SQLAlchemy (≈ 2 s), which
    # `spec diff` of two files never needs.
    from tools.lattice.targeting import load_target

    return load_target().openapi_document()


def render(document: dict[str, Any]) -> str:
    """The one textual form of a document: pretty, sorted keys, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_document(path: Path = DOCUMENT_PATH) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = "write it with `python -m tools.lattice spec --update`"
        raise SpecError(f"{path} does not exist; {hint}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not JSON: {exc}") from None
    return loaded


@cache
def load_committed() -> dict[str, Any]:
    """The committed document, read once per process (the contract suite parametrizes over it)."""
    return committed_document()


def validate_document(document: dict[str, Any]) -> None:
    """openapi-spec-validator on the document; SpecError with its first complaint."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        raise SpecError(f"the OpenAPI document is invalid: {exc.message}") from None
    except Exception as exc:  # e.g. a dangling $ref surfaces as a referencing error
        raise SpecError(f"the OpenAPI document is invalid: {exc.__class__.__name__}: {exc}") from None


def drift(path: Path = DOCUMENT_PATH, document: dict[str, Any] | None = None) -> str:
    """A unified diff from the committed document to the live one (or `document`); empty when they agree."""
    live = render(document if document is not None else live_document())
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    if live == committed:
        return ""
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            live.splitlines(keepends=True),
            fromfile=f"{shown(path)} (committed)",
            tofile="create_app().openapi() (live)",
        )
    )


def resolve(schema: Any, document: Mapping[str, Any]) -> Any:
    """`schema` with every local `$ref` inlined (the document has no recursive schemas)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target: Any = document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return resolve({**target, **rest}, document)
        return {k: resolve(v, document) for k, v in schema.items()}
    if isinstance(schema, list):
        return [resolve(v, document) for v in schema]
    return schema


def shown(path: Path) -> str:
    """`path` as a user of the repository reads it: relative to its root when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def update(path: Path = DOCUMENT_PATH) -> bool:
    """Rewrite the committed document from the app; True when it changed."""
    document = live_document()
    validate_document(document)
    text = render(document)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _run(args: argparse.Namespace) -> int:
    from tools.lattice.specdiff.command import version_policy
    from tools.lattice.specdiff.document import DiffInputError
    from tools.lattice.specdiff.levels import LevelsError
    from tools.lattice.specdiff.render import text as changes_text

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
        from tools.lattice.specdiff.command import classified

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
    from tools.lattice.specdiff.command import add_diff_commands

    add_diff_commands(parser.add_subparsers(dest="spec_command", metavar="ACTION"))
