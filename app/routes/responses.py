"""The documented error answers of an operation, so every status it can return is in the document."""

from __future__ import annotations

from typing import Any

from app.problems import ProblemBody

_DESCRIPTIONS = {
    304: "Not modified: the If-None-Match tag matches",
    401: "Missing, malformed, expired or revoked bearer token (`unauthenticated`)",
    404: "No such object, or it belongs to someone else (`not_found`)",
    411: "The upload has no Content-Length (`length_required`)",
    413: "The upload is larger than the limit (`payload_too_large`)",
    416: "The range cannot be satisfied (`range_not_satisfiable`)",
    422: "The request does not match the schema (`validation_failed`, `invalid_cursor`)",
    429: "Too many requests",
    503: "The database or the queue is unavailable (`service_unavailable`, `queue_unavailable`)",
}


def header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A response header the service always sends with that status (`required`: a client may rely on it)."""
    return {"description": description, "required": True, "schema": {"type": "string", **schema}}


# Header values are strings on the wire: numbers are written as digit patterns, not `type: integer`.
RETRY_AFTER = header("Seconds to wait before retrying (RFC 9110, 10.2.3)", {"pattern": "^[0-9]+$"})

# Headers every answer of that status carries, whatever the operation.
_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {"WWW-Authenticate": header("The challenge (RFC 9110, 11.6.1): `Bearer`", {"pattern": "^Bearer"})},
    416: {
        "Content-Range": header(
            "The attachment's size, as `bytes */<size>` (RFC 9110, 14.4)", {"pattern": "^bytes \\*/[0-9]+$"}
        )
    },
    503: {"Retry-After": RETRY_AFTER},
}


def errors(
    *statuses: int, headers: dict[int, dict[str, dict[str, Any]]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given error statuses, with the headers each always carries (plus
    `headers`, per status, that only this operation's answers carry); app.openapi rewrites their bodies
    to problem+json."""
    extra = headers or {}
    entries: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ProblemBody, "description": _DESCRIPTIONS[status]}
        sent = {**_HEADERS.get(status, {}), **extra.get(status, {})}
        if sent:
            entry["headers"] = sent
        entries[status] = entry
    return entries
