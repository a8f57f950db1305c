"""The document chain's OpenAPI document: where the committed one is, reading it, building the app's own
(through the target), validating, comparing and rewriting it. The guard command is spec.py."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tools.lattice.seam.project import project_root

REPO_ROOT = project_root()
DOCUMENT_PATH = REPO_ROOT / "openapi" / "retrace.json"


def shown(path: Path) -> str:
    """`path` as a user of the repository reads it: relative to its root when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


class SpecError(Exception):
    """The document is invalid or drifted; the message says how, in a few lines."""


def live_document() -> dict[str, Any]:
    """The OpenAPI document of the app as the code builds it now."""
    # Imported here: the target pulls in the service-set machinery and SQLAlchemy (≈ 2 s), which
    # `spec diff` of two files never needs.
    from tools.lattice.seam.targeting import load_target

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
