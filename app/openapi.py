"""The OpenAPI document, generated from the routes; errors rewritten to problem+json, links added."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.http_policy import NO_STORE, private
from app.problems import PROBLEM_MEDIA_TYPE
from app.routes.responses import header

TITLE = "Retrace API"
VERSION = "2.5.0"
PROBLEM_SCHEMA = "Problem"

# Ids a creating operation hands to the operations that use them (schemathesis follows these).
# A new mark has no attachment: its download and delete are linked from the upload, not from the create.
_LINKS = {
    "marks-create": (
        "mark_id",
        "$response.body#/id",
        ["marks-get", "marks-update", "marks-delete", "attachments-upload"],
    ),
    "attachments-upload": (
        "mark_id",
        "$request.path.mark_id",
        ["attachments-download", "attachments-delete"],
    ),
    "tokens-create": ("token_id", "$response.body#/id", ["tokens-revoke"]),
}


def operation_id(route: APIRoute) -> str:
    """Stable ids of the form `<tag>-<name>`, e.g. `marks-create`."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=TITLE, version=VERSION, routes=app.routes, description=app.description)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for path, path_item in doc["paths"].items():
        for operation in path_item.values():
            _bounded_body(operation)
            _problem_json(operation)
            _add_links(operation)
            if private(path):
                _no_store(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    # The problem body is published under its title, the name every error response refers to.
    if "ProblemBody" in schemas:
        schemas[PROBLEM_SCHEMA] = schemas.pop("ProblemBody")
    return doc


def _bounded_body(operation: dict[str, Any]) -> None:
    """Every JSON body is bounded (app/bodylimit.py): its operation may answer 413."""
    content = operation.get("requestBody", {}).get("content", {})
    if not any(media_type.endswith("json") for media_type in content):
        return
    responses = operation["responses"]
    responses.setdefault(
        "413", {"description": "The body is larger than `RETRACE_MAX_JSON_BODY_BYTES` (`payload_too_large`)"}
    )
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: item[0]))


def _problem_json(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        if int(status) >= 400:
            response["content"] = {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}
            }
            if int(status) == 422:
                response["description"] = "The request does not match the schema (`validation_failed`)"


def _no_store(operation: dict[str, Any]) -> None:
    """Every answer of a private operation says so (app/http_policy.py sends it)."""
    for response in operation.get("responses", {}).values():
        response.setdefault("headers", {})["Cache-Control"] = header(
            "Never stored by a cache: the answer depends on the caller's credentials (or hands one out)",
            {"const": NO_STORE},
        )


def _add_links(operation: dict[str, Any]) -> None:
    spec = _LINKS.get(operation.get("operationId", ""))
    if spec is None:
        return
    parameter, expression, targets = spec
    created = next(r for s, r in operation["responses"].items() if s.startswith("2"))
    created["links"] = {
        target: {"operationId": target, "parameters": {parameter: expression}} for target in targets
    }
