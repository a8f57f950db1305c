"""What the old client receives: response statuses, their media types, headers and bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.lattice.chain.specdiff.document import escape
from tools.lattice.chain.specdiff.model import Level, Report, register
from tools.lattice.chain.specdiff.requests import compare_serialisation
from tools.lattice.chain.specdiff.schemas import SchemaDiff, Where

RESPONSE_SUCCESS_STATUS_REMOVED = register(
    "response-success-status-removed", Level.BREAKING, "a success (2xx) response status was removed"
)
RESPONSE_NON_SUCCESS_STATUS_REMOVED = register(
    "response-non-success-status-removed", Level.INFO, "a non-success response status was removed"
)
RESPONSE_SUCCESS_STATUS_ADDED = register(
    "response-success-status-added",
    Level.WARNING,
    "a success (2xx) response status was added (old clients may not expect it)",
)
RESPONSE_NON_SUCCESS_STATUS_ADDED = register(
    "response-non-success-status-added", Level.INFO, "a non-success response status was added"
)
RESPONSE_MEDIA_TYPE_REMOVED = register(
    "response-media-type-removed", Level.BREAKING, "a response media type was removed"
)
RESPONSE_MEDIA_TYPE_ADDED = register(
    "response-media-type-added", Level.INFO, "a response media type was added"
)
REQUIRED_RESPONSE_HEADER_REMOVED = register(
    "required-response-header-removed", Level.BREAKING, "a required response header was removed"
)
OPTIONAL_RESPONSE_HEADER_REMOVED = register(
    "optional-response-header-removed", Level.WARNING, "an optional response header was removed"
)
RESPONSE_HEADER_ADDED = register("response-header-added", Level.INFO, "a response header was added")
RESPONSE_HEADER_BECAME_OPTIONAL = register(
    "response-header-became-optional", Level.BREAKING, "a required response header became optional"
)
RESPONSE_HEADER_BECAME_REQUIRED = register(
    "response-header-became-required", Level.INFO, "a response header became required"
)

RESPONSE_HEADER_STYLE_CHANGED = register(
    "response-header-style-changed", Level.BREAKING, "a response header's serialisation style changed"
)
RESPONSE_HEADER_EXPLODE_CHANGED = register(
    "response-header-explode-changed", Level.BREAKING, "a response header's explode flag changed"
)
RESPONSE_BODY_MEDIA_TYPE_SCHEMA_ADDED = register(
    "response-body-media-type-schema-added",
    Level.INFO,
    "a response media type that had no schema now has one (what may come is narrowed)",
)
# As a response property removed: the client's model goes, what the server sends need not change.
RESPONSE_BODY_MEDIA_TYPE_SCHEMA_REMOVED = register(
    "response-body-media-type-schema-removed", Level.WARNING, "a response media type's schema was removed"
)
RESPONSE_MEDIA_TYPE_NAME_CHANGED = register(
    "response-media-type-name-changed",
    Level.INFO,
    "a response media type's parameters changed (e.g. charset)",
)
RESPONSE_MEDIA_TYPE_NAME_SPECIALIZED = register(
    "response-media-type-name-specialized",
    Level.INFO,
    "a response media type became a more specific one of its family "
    "(application/json → application/problem+json)",
)
RESPONSE_MEDIA_TYPE_NAME_GENERALIZED = register(
    "response-media-type-name-generalized",
    Level.BREAKING,
    "a response media type became a more general one (application/problem+json → application/json): "
    "a client that dispatches on the specific type no longer recognises the response",
)


def media_family(media: str) -> str:
    """`application/problem+json; charset=utf-8` → `application/json`: what a client parses it as."""
    base = _essence(media)
    kind, _, subtype = base.partition("/")
    return f"{kind}/{subtype.rsplit('+', 1)[1]}" if "+" in subtype else base


def _essence(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


def _renaming(old: str, new: str) -> str:
    """Which rename within a family: the same essence (parameters only), more specific, or more general."""
    if _essence(old) == _essence(new):
        return RESPONSE_MEDIA_TYPE_NAME_CHANGED
    if _essence(old) == media_family(old):  # old was the family itself: new is a specific member
        return RESPONSE_MEDIA_TYPE_NAME_SPECIALIZED
    return RESPONSE_MEDIA_TYPE_NAME_GENERALIZED


def is_success(status: str) -> bool:
    return status.startswith("2") or status.upper() == "2XX"


def compare_responses(
    report: Report,
    schemas: SchemaDiff,
    operation: str,
    base: str,
    old_operation: Mapping[str, Any],
    new_operation: Mapping[str, Any],
) -> None:
    old_responses = old_operation.get("responses") or {}
    new_responses = new_operation.get("responses") or {}
    for status in sorted(old_responses.keys() | new_responses.keys()):
        at = f"{base}/responses/{escape(status)}"
        success = is_success(status)
        if status not in new_responses:
            check = RESPONSE_SUCCESS_STATUS_REMOVED if success else RESPONSE_NON_SUCCESS_STATUS_REMOVED
            report.add(check, operation, at, f"the response with status {status} was removed")
            continue
        if status not in old_responses:
            check = RESPONSE_SUCCESS_STATUS_ADDED if success else RESPONSE_NON_SUCCESS_STATUS_ADDED
            report.add(check, operation, at, f"a response with status {status} was added")
            continue
        was, _ = schemas.old.deref(old_responses[status])
        now, _ = schemas.new.deref(new_responses[status])
        _headers(report, schemas, operation, at, status, was.get("headers") or {}, now.get("headers") or {})
        _content(report, schemas, operation, at, status, was.get("content") or {}, now.get("content") or {})


def _content(
    report: Report,
    schemas: SchemaDiff,
    operation: str,
    at: str,
    status: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    renamed: dict[str, str] = {}  # old name → new name, the same family on both sides
    added = sorted(new.keys() - old.keys())
    for media in sorted(old.keys() - new.keys()):
        twin = next(
            (m for m in added if media_family(m) == media_family(media) and m not in renamed.values()), None
        )
        if twin is not None:
            renamed[media] = twin
            text = f"the media type {media} of the response with status {status} is now {twin}"
            report.add(_renaming(media, twin), operation, f"{at}/content/{escape(twin)}", text)
            continue
        text = f"the media type {media} of the response with status {status} was removed"
        report.add(RESPONSE_MEDIA_TYPE_REMOVED, operation, f"{at}/content/{escape(media)}", text)
    for media in added:
        if media in renamed.values():
            continue
        text = f"the media type {media} was added to the response with status {status}"
        report.add(RESPONSE_MEDIA_TYPE_ADDED, operation, f"{at}/content/{escape(media)}", text)
    for was_name, media in [*((m, m) for m in sorted(old.keys() & new.keys())), *renamed.items()]:
        old_schema, new_schema = (old[was_name] or {}).get("schema"), (new[media] or {}).get("schema")
        if old_schema is None or new_schema is None:
            here = f"{at}/content/{escape(media)}/schema"
            if new_schema is not None:
                text = f"the response body ({media}, status {status}) had no schema and now has one"
                report.add(RESPONSE_BODY_MEDIA_TYPE_SCHEMA_ADDED, operation, here, text)
            elif old_schema is not None:
                text = f"the response body ({media}, status {status}) no longer has a schema"
                report.add(RESPONSE_BODY_MEDIA_TYPE_SCHEMA_REMOVED, operation, here, text)
            continue
        named = f" ({media})" if len(new) > 1 else ""
        subject = f"the response body{named} (status {status})"
        where = Where(
            operation, f"{at}/content/{escape(media)}/schema", "response-body", subject, "response", status
        )
        schemas.compare(old_schema, new_schema, where)


def _headers(
    report: Report,
    schemas: SchemaDiff,
    operation: str,
    at: str,
    status: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    old_by, new_by = {k.lower(): k for k in old}, {k.lower(): k for k in new}
    for key in sorted(old_by.keys() | new_by.keys()):
        name = new_by.get(key) or old_by[key]
        here = f"{at}/headers/{escape(name)}"
        subject = f"the response header `{name}` (status {status})"
        was = schemas.old.deref(old[old_by[key]])[0] if key in old_by else None
        now = schemas.new.deref(new[new_by[key]])[0] if key in new_by else None
        if now is None:
            required = bool(was and was.get("required") is True)
            check = REQUIRED_RESPONSE_HEADER_REMOVED if required else OPTIONAL_RESPONSE_HEADER_REMOVED
            report.add(check, operation, here, f"{subject} was removed")
            continue
        if was is None:
            report.add(RESPONSE_HEADER_ADDED, operation, here, f"{subject} was added")
            continue
        was_required, now_required = was.get("required") is True, now.get("required") is True
        if was_required and not now_required:
            report.add(RESPONSE_HEADER_BECAME_OPTIONAL, operation, here, f"{subject} became optional")
        elif now_required and not was_required:
            report.add(RESPONSE_HEADER_BECAME_REQUIRED, operation, here, f"{subject} became required")
        ids = (RESPONSE_HEADER_STYLE_CHANGED, RESPONSE_HEADER_EXPLODE_CHANGED)
        compare_serialisation(report, operation, here, subject, was, now, "header", ids)
        if "schema" in was and "schema" in now:
            where = Where(operation, f"{here}/schema", "response-header", subject, "response", status)
            schemas.compare(was["schema"], now["schema"], where)
