"""The OpenAPI document the service serves, as an outline pinned by a syrupy snapshot.

`openapi/retrace.json` (53 kB of JSON) is kept byte-for-byte current by `nox -s spec` and
tests/contract/test_chain.py; this test does not compare it again. It pins what a reviewer of an API
change wants to see in a diff, one entry per operation: its id, whether it needs a bearer token, its
parameters, its request body, every status it answers with the media type and schema, and the links a
client may follow; and per component its properties (required ones starred) and enum values. A route
that loses its auth, gains a status, answers an error in another media type, or an operation the docs
pages leaked into the document (`/docs`, `/redoc`), shows here as a line or two
(`__snapshots__/test_openapi_outline.ambr`; `nox -s integration -- --snapshot-update` after review).
"""

from __future__ import annotations

from typing import Any

import httpx
from syrupy.assertion import SnapshotAssertion

Outline = dict[str, Any]
_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list[{_schema_name(schema['items'])}]"
    return str(schema.get("format") or schema.get("type") or "any")


def _contents(content: dict[str, Any]) -> str:
    return ", ".join(f"{media} {_schema_name(entry.get('schema', {}))}" for media, entry in content.items())


def _operation(operation: dict[str, Any]) -> list[str]:
    """A few lines: id and auth, parameters, body, then statuses grouped by what they answer."""
    lines = [f"{operation['operationId']}, auth: {'bearer' if operation.get('security') else 'none'}"]
    if parameters := operation.get("parameters"):
        lines.append(
            "in: " + ", ".join(f"{p['in']} {p['name']}{'*' if p.get('required') else ''}" for p in parameters)
        )
    if body := operation.get("requestBody"):
        lines.append(f"body: {_contents(body['content'])}")
    answers: dict[str, list[str]] = {}
    for status, response in sorted(operation["responses"].items()):
        answers.setdefault(_contents(response.get("content", {})) or "no body", []).append(status)
    lines.extend(f"{' '.join(statuses)}: {content}" for content, statuses in answers.items())
    for status, response in sorted(operation["responses"].items()):
        if links := response.get("links"):
            lines.append(
                f"{status} links: " + ", ".join(sorted(link["operationId"] for link in links.values()))
            )
    return lines


def _component(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "enum: " + ", ".join(str(value) for value in schema["enum"])
    required = set(schema.get("required", []))
    return ", ".join(f"{name}{'*' if name in required else ''}" for name in schema.get("properties", {}))


def outline(document: dict[str, Any]) -> Outline:
    """Operations by `METHOD path`, components by name."""
    return {
        "version": document["info"]["version"],
        "operations": {
            f"{method.upper()} {path}": _operation(item[method])
            for path, item in sorted(document["paths"].items())
            for method in _METHODS
            if method in item
        },
        "components": {
            name: _component(schema) for name, schema in sorted(document["components"]["schemas"].items())
        },
    }


def test_served_document_outline(api: httpx.Client, snapshot: SnapshotAssertion) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert outline(response.json()) == snapshot
