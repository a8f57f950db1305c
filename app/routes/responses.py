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


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given error statuses; app.openapi rewrites them to problem+json."""
    return {status: {"model": ProblemBody, "description": _DESCRIPTIONS[status]} for status in statuses}
