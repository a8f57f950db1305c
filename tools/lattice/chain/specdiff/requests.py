"""What the old client sends: parameters (path, query, header, cookie) and request bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tools.lattice.chain.specdiff.document import Resolver, escape
from tools.lattice.chain.specdiff.model import Level, Report, register
from tools.lattice.chain.specdiff.schemas import SchemaDiff, Where

NEW_REQUIRED_REQUEST_PARAMETER = register(
    "new-required-request-parameter", Level.BREAKING, "a required parameter was added"
)
NEW_OPTIONAL_REQUEST_PARAMETER = register(
    "new-optional-request-parameter", Level.INFO, "an optional parameter was added"
)
REQUEST_PARAMETER_REMOVED = register(
    "request-parameter-removed", Level.WARNING, "a parameter was removed (old clients may still send it)"
)
REQUEST_PARAMETER_BECAME_REQUIRED = register(
    "request-parameter-became-required", Level.BREAKING, "a parameter became required"
)
REQUEST_PARAMETER_BECAME_OPTIONAL = register(
    "request-parameter-became-optional", Level.INFO, "a parameter became optional"
)
REQUEST_PATH_PARAMETER_RENAMED = register(
    "request-path-parameter-renamed",
    Level.WARNING,
    "a path parameter was renamed (same URL; the SDK's keyword argument changes)",
)
REQUEST_BODY_ADDED_REQUIRED = register(
    "request-body-added-required", Level.BREAKING, "a required request body was added"
)
REQUEST_BODY_ADDED_OPTIONAL = register(
    "request-body-added-optional", Level.INFO, "an optional request body was added"
)
REQUEST_BODY_REMOVED = register(
    "request-body-removed",
    Level.BREAKING,
    "the request body was removed (old clients still send one: refused, or its data silently dropped)",
)
REQUEST_BODY_BECAME_REQUIRED = register(
    "request-body-became-required", Level.BREAKING, "the request body became required"
)
REQUEST_BODY_BECAME_OPTIONAL = register(
    "request-body-became-optional", Level.INFO, "the request body became optional"
)
REQUEST_BODY_MEDIA_TYPE_REMOVED = register(
    "request-body-media-type-removed", Level.BREAKING, "a request body media type was removed"
)
REQUEST_BODY_MEDIA_TYPE_ADDED = register(
    "request-body-media-type-added", Level.INFO, "a request body media type was added"
)

REQUEST_BODY_MEDIA_TYPE_SCHEMA_ADDED = register(
    "request-body-media-type-schema-added",
    Level.BREAKING,
    "a request media type that had no schema (any body) now has one",
)
REQUEST_BODY_MEDIA_TYPE_SCHEMA_REMOVED = register(
    "request-body-media-type-schema-removed",
    Level.INFO,
    "a request media type's schema was removed (any body)",
)
REQUEST_PARAMETER_STYLE_CHANGED = register(
    "request-parameter-style-changed", Level.BREAKING, "a parameter's serialisation style changed"
)
REQUEST_PARAMETER_EXPLODE_CHANGED = register(
    "request-parameter-explode-changed", Level.BREAKING, "a parameter's explode flag changed"
)
REQUEST_PARAMETER_ALLOW_EMPTY_VALUE_REMOVED = register(
    "request-parameter-allow-empty-value-removed", Level.BREAKING, "an empty value is no longer allowed"
)
REQUEST_PARAMETER_ALLOW_EMPTY_VALUE_ADDED = register(
    "request-parameter-allow-empty-value-added", Level.INFO, "an empty value became allowed"
)
REQUEST_PARAMETER_ALLOW_RESERVED_REMOVED = register(
    "request-parameter-allow-reserved-removed",
    Level.BREAKING,
    "reserved characters must now be percent-encoded",
)
REQUEST_PARAMETER_ALLOW_RESERVED_ADDED = register(
    "request-parameter-allow-reserved-added", Level.INFO, "reserved characters may now be sent as they are"
)

_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


def serialisation(parameter: Mapping[str, Any], location: str) -> tuple[str, bool]:
    """(style, explode) as the parameter (or header: location "header") is written on the wire."""
    style = str(parameter.get("style", _DEFAULT_STYLE.get(location, "simple")))
    return style, bool(parameter.get("explode", style == "form"))


def compare_serialisation(
    report: Report,
    operation: str,
    at: str,
    subject: str,
    was: Mapping[str, Any],
    now: Mapping[str, Any],
    location: str,
    ids: tuple[str, str],
) -> None:
    """Style and explode: an old client writes the value the old way, and the server now reads another."""
    (old_style, old_explode), (new_style, new_explode) = (
        serialisation(was, location),
        serialisation(now, location),
    )
    if old_style != new_style:
        report.add(
            ids[0], operation, f"{at}/style", f"{subject}: the style changed from {old_style} to {new_style}"
        )
    if old_explode != new_explode:
        text = f"{subject}: explode changed from {str(old_explode).lower()} to {str(new_explode).lower()}"
        report.add(ids[1], operation, f"{at}/explode", text)


_TEMPLATE = re.compile(r"\{([^}]*)\}")


def _parameters(
    resolver: Resolver, path: str, path_item: Mapping[str, Any], operation: Mapping[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The operation's parameters (path-level ones overridden by its own), keyed by (in, name).

    Path parameters are keyed by their position in the template, so `/marks/{id}` → `/marks/{mark_id}`
    is a rename of one parameter, not a removal and an addition.
    """
    positions = {name: str(i) for i, name in enumerate(_TEMPLATE.findall(path))}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter, _ = resolver.deref(raw)
        if not isinstance(parameter, Mapping) or "name" not in parameter:
            continue
        where = str(parameter.get("in", "query"))
        name = str(parameter["name"])
        key = (
            (where, positions.get(name, name))
            if where == "path"
            else (where, name.lower() if where == "header" else name)
        )
        found[key] = dict(parameter)
    return found


def compare_parameters(
    report: Report,
    schemas: SchemaDiff,
    operation: str,
    base: str,
    old: tuple[str, Mapping[str, Any], Mapping[str, Any]],
    new: tuple[str, Mapping[str, Any], Mapping[str, Any]],
) -> None:
    """`old`/`new` are (path template, path item, operation) of each side; `base` the operation's pointer."""
    old_params = _parameters(schemas.old, *old)
    new_params = _parameters(schemas.new, *new)
    for key in sorted(old_params.keys() | new_params.keys()):
        location = key[0]
        was, now = old_params.get(key), new_params.get(key)
        name = str((now or was or {}).get("name"))
        at = f"{base}/parameters/{escape(location)}/{escape(name)}"
        subject = f"the {location} parameter `{name}`"
        if was is None and now is not None:
            required = now.get("required") is True
            check = NEW_REQUIRED_REQUEST_PARAMETER if required else NEW_OPTIONAL_REQUEST_PARAMETER
            report.add(
                check, operation, at, f"{subject} was added as {'required' if required else 'optional'}"
            )
            continue
        if now is None and was is not None:
            report.add(REQUEST_PARAMETER_REMOVED, operation, at, f"{subject} was removed")
            continue
        assert was is not None
        assert now is not None
        if location == "path" and was["name"] != now["name"]:
            report.add(
                REQUEST_PATH_PARAMETER_RENAMED,
                operation,
                at,
                f"the path parameter `{was['name']}` was renamed to `{now['name']}`",
            )
        was_required, now_required = was.get("required") is True, now.get("required") is True
        if now_required and not was_required:
            report.add(REQUEST_PARAMETER_BECAME_REQUIRED, operation, at, f"{subject} became required")
        elif was_required and not now_required:
            report.add(REQUEST_PARAMETER_BECAME_OPTIONAL, operation, at, f"{subject} became optional")
        ids = (REQUEST_PARAMETER_STYLE_CHANGED, REQUEST_PARAMETER_EXPLODE_CHANGED)
        compare_serialisation(report, operation, at, subject, was, now, location, ids)
        for flag, (gone, came) in {
            "allowEmptyValue": (
                REQUEST_PARAMETER_ALLOW_EMPTY_VALUE_REMOVED,
                REQUEST_PARAMETER_ALLOW_EMPTY_VALUE_ADDED,
            ),
            "allowReserved": (
                REQUEST_PARAMETER_ALLOW_RESERVED_REMOVED,
                REQUEST_PARAMETER_ALLOW_RESERVED_ADDED,
            ),
        }.items():
            old_flag, new_flag = was.get(flag) is True, now.get(flag) is True
            if old_flag != new_flag:
                check = came if new_flag else gone
                report.add(
                    check, operation, f"{at}/{flag}", f"{subject}: {flag} became {str(new_flag).lower()}"
                )
        if "schema" in was and "schema" in now:
            where = Where(operation, f"{at}/schema", "request-parameter", subject, "request", as_text=True)
            schemas.compare(was["schema"], now["schema"], where)


def compare_request_body(
    report: Report,
    schemas: SchemaDiff,
    operation: str,
    base: str,
    old_operation: Mapping[str, Any],
    new_operation: Mapping[str, Any],
) -> None:
    at = f"{base}/requestBody"
    was, _ = schemas.old.deref(old_operation.get("requestBody"))
    now, _ = schemas.new.deref(new_operation.get("requestBody"))
    if not was and not now:
        return
    if not was:
        required = now.get("required") is True
        check = REQUEST_BODY_ADDED_REQUIRED if required else REQUEST_BODY_ADDED_OPTIONAL
        report.add(check, operation, at, f"a {'required' if required else 'optional'} request body was added")
        return
    if not now:
        report.add(REQUEST_BODY_REMOVED, operation, at, "the request body was removed")
        return
    was_required, now_required = was.get("required") is True, now.get("required") is True
    if now_required and not was_required:
        report.add(REQUEST_BODY_BECAME_REQUIRED, operation, at, "the request body became required")
    elif was_required and not now_required:
        report.add(REQUEST_BODY_BECAME_OPTIONAL, operation, at, "the request body became optional")
    old_content, new_content = was.get("content") or {}, now.get("content") or {}
    for media in sorted(old_content.keys() - new_content.keys()):
        report.add(
            REQUEST_BODY_MEDIA_TYPE_REMOVED,
            operation,
            f"{at}/content/{escape(media)}",
            f"the request body media type {media} was removed",
        )
    for media in sorted(new_content.keys() - old_content.keys()):
        report.add(
            REQUEST_BODY_MEDIA_TYPE_ADDED,
            operation,
            f"{at}/content/{escape(media)}",
            f"the request body media type {media} was added",
        )
    for media in sorted(old_content.keys() & new_content.keys()):
        old_schema = (old_content[media] or {}).get("schema")
        new_schema = (new_content[media] or {}).get("schema")
        if old_schema is None or new_schema is None:
            here = f"{at}/content/{escape(media)}/schema"
            if new_schema is not None:
                text = f"the request body ({media}) had no schema (anything went) and now has one"
                report.add(REQUEST_BODY_MEDIA_TYPE_SCHEMA_ADDED, operation, here, text)
            elif old_schema is not None:
                text = f"the request body ({media}) no longer has a schema (anything goes)"
                report.add(REQUEST_BODY_MEDIA_TYPE_SCHEMA_REMOVED, operation, here, text)
            continue
        subject = "the request body" if len(new_content) == 1 else f"the request body ({media})"
        where = Where(operation, f"{at}/content/{escape(media)}/schema", "request-body", subject, "request")
        schemas.compare(old_schema, new_schema, where)
