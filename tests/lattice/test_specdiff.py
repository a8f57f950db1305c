"""`spec diff`: a table of small base/revision documents per rule, both directions; levels; policy; CLI.

Pure logic on dictionaries (and a few `python -m tools.lattice spec diff` subprocesses): no fixture here
touches a database or Redis.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lattice.conftest import Ran
from tools.lattice.chain.document import DOCUMENT_PATH, REPO_ROOT
from tools.lattice.chain.specdiff import CHECKS, Level, diff
from tools.lattice.chain.specdiff.levels import LevelsError, apply_levels, load_levels
from tools.lattice.chain.specdiff.policy import MAJOR, MINOR, NONE, PATCH, PolicyError, granted, judge
from tools.lattice.chain.specdiff.sdknames import consequences, model_class, operation_modules, pascal, snake

Doc = dict[str, Any]
S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741


def document(paths: dict[str, Any], schemas: dict[str, Any] | None = None, version: str = "1.0.0") -> Doc:
    return {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": version},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or [], **extra}


def req(schema: Any, *, required: bool = True, media: tuple[str, ...] = ("application/json",)) -> Doc:
    body = {"required": required, "content": {m: {"schema": schema} for m in media}}
    return document(
        {
            "/things": {
                "post": {
                    "operationId": "things-create",
                    "tags": ["things"],
                    "requestBody": body,
                    "responses": {"201": {"description": "ok"}},
                }
            }
        }
    )


def resp(
    schema: Any,
    *,
    status: str = "200",
    headers: dict[str, Any] | None = None,
    media: tuple[str, ...] = ("application/json",),
    schemas: dict[str, Any] | None = None,
) -> Doc:
    response: dict[str, Any] = {"description": "ok", "content": {m: {"schema": schema} for m in media}}
    if headers is not None:
        response["headers"] = headers
    return document(
        {
            "/things": {
                "get": {"operationId": "things-list", "tags": ["things"], "responses": {status: response}}
            }
        },
        schemas,
    )


def params(*parameters: dict[str, Any], path: str = "/things", security: Any = None) -> Doc:
    op: dict[str, Any] = {
        "operationId": "things-list",
        "parameters": list(parameters),
        "responses": {"200": {"description": "ok"}},
    }
    if security is not None:
        op["security"] = security
    return document({path: {"get": op}})


def q(name: str, schema: Any = S, required: bool = False, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


def found(base: Doc, revision: Doc) -> set[tuple[str, str]]:
    return {(c.id, c.level.value) for c in diff(base, revision)}


NULLABLE_S = {"anyOf": [S, {"type": "null"}]}

# (case, base, revision, base→revision, revision→base)
CASES: list[tuple[str, Doc, Doc, set[tuple[str, str]], set[tuple[str, str]]]] = [
    (
        "request enum",
        req({**S, "enum": ["a"]}),
        req({**S, "enum": ["a", "b"]}),
        {("request-body-enum-value-added", "info")},
        {("request-body-enum-value-removed", "breaking")},
    ),
    (
        "response enum",
        resp({**S, "enum": ["a"]}),
        resp({**S, "enum": ["a", "b"]}),
        {("response-body-enum-value-added", "breaking")},
        {("response-body-enum-value-removed", "info")},
    ),
    (
        "request became enum",
        req(S),
        req({**S, "enum": ["a"]}),
        {("request-body-became-enum", "breaking")},
        {("request-body-became-not-enum", "info")},
    ),
    (
        "response const as enum",
        resp({**S, "const": "ok"}),
        resp({**S, "enum": ["ok", "degraded"]}),
        {("response-body-enum-value-added", "breaking")},
        {("response-body-enum-value-removed", "info")},
    ),
    (
        "new required request property",
        req(obj({"a": S}, ["a"])),
        req(obj({"a": S, "b": S}, ["a", "b"])),
        {("new-required-request-property", "breaking")},
        {("request-property-removed", "warning")},
    ),
    (
        "request property removed from a closed schema",
        req(obj({"a": S, "b": S}, additionalProperties=False)),
        req(obj({"a": S}, additionalProperties=False)),
        {("request-property-removed-from-closed-schema", "breaking")},
        {("new-optional-request-property", "info")},
    ),
    (
        "request property became required",
        req(obj({"a": S})),
        req(obj({"a": S}, ["a"])),
        {("request-property-became-required", "breaking")},
        {("request-property-became-optional", "info")},
    ),
    (
        "response required property removed",
        resp(obj({"a": S, "b": S}, ["a", "b"])),
        resp(obj({"a": S}, ["a"])),
        {("response-required-property-removed", "breaking")},
        {("response-required-property-added", "info")},
    ),
    (
        "response optional property removed",
        resp(obj({"a": S, "b": S})),
        resp(obj({"a": S})),
        {("response-optional-property-removed", "warning")},
        {("response-optional-property-added", "info")},
    ),
    (
        "response property became optional",
        resp(obj({"a": S}, ["a"])),
        resp(obj({"a": S})),
        {("response-property-became-optional", "breaking")},
        {("response-property-became-required", "info")},
    ),
    (
        "request nullability, FastAPI's anyOf",
        req(obj({"a": S})),
        req(obj({"a": NULLABLE_S})),
        {("request-property-became-nullable", "info")},
        {("request-property-became-not-nullable", "breaking")},
    ),
    (
        "response nullability, FastAPI's anyOf",
        resp(obj({"a": S})),
        resp(obj({"a": NULLABLE_S})),
        {("response-property-became-nullable", "breaking")},
        {("response-property-became-not-nullable", "info")},
    ),
    (
        "response nullability, 3.1 type list",
        resp(S),
        resp({"type": ["string", "null"]}),
        {("response-body-became-nullable", "breaking")},
        {("response-body-became-not-nullable", "info")},
    ),
    (
        "request maxLength",
        req({**S, "maxLength": 10}),
        req({**S, "maxLength": 5}),
        {("request-body-max-length-decreased", "breaking")},
        {("request-body-max-length-increased", "info")},
    ),
    (
        "request maxLength set",
        req(obj({"a": S})),
        req(obj({"a": {**S, "maxLength": 3}})),
        {("request-property-max-length-set", "breaking")},
        {("request-property-max-length-unset", "info")},
    ),
    (
        "request minLength inside FastAPI's nullable wrap",
        req(obj({"a": {"anyOf": [{**S, "minLength": 1}, {"type": "null"}]}})),
        req(obj({"a": {"anyOf": [{**S, "minLength": 2}, {"type": "null"}]}})),
        {("request-property-min-length-increased", "breaking")},
        {("request-property-min-length-decreased", "info")},
    ),
    (
        "response minimum",
        resp({**I, "minimum": 0}),
        resp({**I, "minimum": 1}),
        {("response-body-min-increased", "info")},
        {("response-body-min-decreased", "breaking")},
    ),
    (
        "response maximum unset",
        resp({**I, "maximum": 9}),
        resp(I),
        {("response-body-max-unset", "breaking")},
        {("response-body-max-set", "info")},
    ),
    (
        "parameter exclusiveMaximum",
        params(q("n", {**I, "exclusiveMaximum": 10})),
        params(q("n", {**I, "exclusiveMaximum": 5})),
        {("request-parameter-exclusive-max-decreased", "breaking")},
        {("request-parameter-exclusive-max-increased", "info")},
    ),
    (
        "parameter exclusiveMinimum set",
        params(q("n", I)),
        params(q("n", {**I, "exclusiveMinimum": 0})),
        {("request-parameter-exclusive-min-set", "breaking")},
        {("request-parameter-exclusive-min-unset", "info")},
    ),
    (
        "request minItems / maxItems",
        req({"type": "array", "items": S, "maxItems": 5}),
        req({"type": "array", "items": S, "maxItems": 5, "minItems": 1}),
        {("request-body-min-items-set", "breaking")},
        {("request-body-min-items-unset", "info")},
    ),
    (
        "array items",
        req({"type": "array", "items": {**S, "enum": ["a", "b"]}}),
        req({"type": "array", "items": {**S, "enum": ["a"]}}),
        {("request-property-enum-value-removed", "breaking")},
        {("request-property-enum-value-added", "info")},
    ),
    (
        "request type unrelated",
        req(S),
        req(I),
        {("request-body-type-changed", "breaking")},
        {("request-body-type-changed", "breaking")},
    ),
    (
        "request type widened",
        req(I),
        req({"type": "number"}),
        {("request-body-type-generalized", "info")},
        {("request-body-type-specialized", "breaking")},
    ),
    (
        "response type widened",
        resp(I),
        resp({"type": "number"}),
        {("response-body-type-generalized", "breaking")},
        {("response-body-type-specialized", "info")},
    ),
    (
        "response format added",
        resp(S),
        resp({**S, "format": "date-time"}),
        {("response-body-format-added", "info")},
        {("response-body-format-removed", "breaking")},
    ),
    (
        "request format added",
        req(S),
        req({**S, "format": "uuid"}),
        {("request-body-format-added", "breaking")},
        {("request-body-format-removed", "info")},
    ),
    (
        "format changed",
        resp({**S, "format": "date"}),
        resp({**S, "format": "date-time"}),
        {("response-body-format-changed", "breaking")},
        {("response-body-format-changed", "breaking")},
    ),
    (
        "request pattern",
        req(S),
        req({**S, "pattern": "^[a-z]+$"}),
        {("request-body-pattern-added", "breaking")},
        {("request-body-pattern-removed", "info")},
    ),
    (
        "pattern changed",
        req({**S, "pattern": "^a"}),
        req({**S, "pattern": "^b"}),
        {("request-body-pattern-changed", "warning")},
        {("request-body-pattern-changed", "warning")},
    ),
    (
        "request additionalProperties",
        req(obj({"a": S})),
        req(obj({"a": S}, additionalProperties=False)),
        {("request-body-additional-properties-forbidden", "breaking")},
        {("request-body-additional-properties-allowed", "info")},
    ),
    (
        "response anyOf alternative",
        resp({"anyOf": [S, I]}),
        resp({"anyOf": [S, I, {"type": "boolean"}]}),
        {("response-body-any-of-added", "breaking")},
        {("response-body-any-of-removed", "info")},
    ),
    (
        "request oneOf alternative",
        req({"oneOf": [obj({"a": S}), obj({"b": I})]}),
        req({"oneOf": [obj({"a": S}), obj({"b": I}), S]}),
        {("request-body-one-of-added", "info")},
        {("request-body-one-of-removed", "breaking")},
    ),
    (
        "allOf merges required",
        req({"allOf": [obj({"a": S}), obj({"b": S})]}),
        req({"allOf": [obj({"a": S}), obj({"b": S}, ["b"])]}),
        {("request-property-became-required", "breaking")},
        {("request-property-became-optional", "info")},
    ),
    (
        "readOnly property is not sent",
        req(obj({"a": S})),
        req(obj({"a": S, "id": {**S, "readOnly": True}}, ["id"])),
        set(),
        set(),
    ),
    (
        "request property became readOnly",
        req(obj({"a": S}, ["a"])),
        req(obj({"a": {**S, "readOnly": True}}, ["a"])),
        {("request-property-became-read-only", "warning"), ("request-property-became-optional", "info")},
        {("request-property-became-not-read-only", "info"), ("request-property-became-required", "breaking")},
    ),
    (
        "response property became writeOnly",
        resp(obj({"a": S}, ["a"])),
        resp(obj({"a": {**S, "writeOnly": True}}, ["a"])),
        {
            ("response-property-became-write-only", "warning"),
            ("response-property-became-optional", "breaking"),
        },
        {("response-property-became-not-write-only", "info"), ("response-property-became-required", "info")},
    ),
    (
        "new required parameter",
        params(),
        params(q("tag", required=True)),
        {("new-required-request-parameter", "breaking")},
        {("request-parameter-removed", "warning")},
    ),
    (
        "new optional header parameter",
        params(),
        params(q("X-Trace", where="header")),
        {("new-optional-request-parameter", "info")},
        {("request-parameter-removed", "warning")},
    ),
    (
        "header names ignore case",
        params(q("X-Trace", where="header")),
        params(q("x-trace", where="header")),
        set(),
        set(),
    ),
    (
        "parameter became required",
        params(q("tag")),
        params(q("tag", required=True)),
        {("request-parameter-became-required", "breaking")},
        {("request-parameter-became-optional", "info")},
    ),
    (
        "parameter enum",
        params(q("s", {**S, "enum": ["a"]})),
        params(q("s", {**S, "enum": ["a", "b"]})),
        {("request-parameter-enum-value-added", "info")},
        {("request-parameter-enum-value-removed", "breaking")},
    ),
    (
        "path parameter renamed",
        params(q("id", required=True, where="path"), path="/things/{id}"),
        params(q("thing_id", required=True, where="path"), path="/things/{thing_id}"),
        {("request-path-parameter-renamed", "warning")},
        {("request-path-parameter-renamed", "warning")},
    ),
    (
        "request media type",
        req(S, media=("application/json", "text/plain")),
        req(S),
        {("request-body-media-type-removed", "breaking")},
        {("request-body-media-type-added", "info")},
    ),
    (
        "request body became required",
        req(S, required=False),
        req(S),
        {("request-body-became-required", "breaking")},
        {("request-body-became-optional", "info")},
    ),
    (
        "request body added",
        params(),
        document(
            {
                "/things": {
                    "get": {
                        "operationId": "things-list",
                        "parameters": [],
                        "responses": {"200": {"description": "ok"}},
                        "requestBody": {"required": True, "content": {"application/json": {"schema": S}}},
                    }
                }
            }
        ),
        {("request-body-added-required", "breaking")},
        {("request-body-removed", "breaking")},
    ),
    (
        "success status",
        resp(S),
        resp(S, status="202"),
        {("response-success-status-removed", "breaking"), ("response-success-status-added", "warning")},
        {("response-success-status-removed", "breaking"), ("response-success-status-added", "warning")},
    ),
    (
        "response media type",
        resp(S, media=("application/json", "text/csv")),
        resp(S),
        {("response-media-type-removed", "breaking")},
        {("response-media-type-added", "info")},
    ),
    (
        "required response header",
        resp(S, headers={"ETag": {"required": True, "schema": S}}),
        resp(S, headers={}),
        {("required-response-header-removed", "breaking")},
        {("response-header-added", "info")},
    ),
    (
        "response header became optional",
        resp(S, headers={"ETag": {"required": True, "schema": S}}),
        resp(S, headers={"etag": {"schema": S}}),
        {("response-header-became-optional", "breaking")},
        {("response-header-became-required", "info")},
    ),
    (
        "response header schema",
        resp(S, headers={"X-N": {"schema": {**I, "maximum": 5}}}),
        resp(S, headers={"X-N": {"schema": {**I, "maximum": 9}}}),
        {("response-header-max-increased", "breaking")},
        {("response-header-max-decreased", "info")},
    ),
    (
        "operation removed",
        document({"/things": {"get": {"responses": {}}, "post": {"responses": {}}}}),
        document({"/things": {"get": {"responses": {}}}}),
        {("api-removed-without-deprecation", "breaking")},
        {("endpoint-added", "info")},
    ),
    (
        "path removed",
        document({"/a": {"get": {"responses": {}}}, "/b": {"get": {"responses": {}}}}),
        document({"/a": {"get": {"responses": {}}}}),
        {("api-path-removed-without-deprecation", "breaking")},
        {("endpoint-added", "info")},
    ),
    (
        "deprecated path removed",
        document({"/a": {"get": {"responses": {}}}, "/b": {"get": {"deprecated": True, "responses": {}}}}),
        document({"/a": {"get": {"responses": {}}}}),
        {("api-path-removed-with-deprecation", "warning")},
        {("endpoint-added", "info")},
    ),
    (
        "operationId renamed",
        document({"/a": {"get": {"operationId": "a-list", "responses": {}}}}),
        document({"/a": {"get": {"operationId": "a-all", "responses": {}}}}),
        {("api-operation-id-changed", "breaking")},
        {("api-operation-id-changed", "breaking")},
    ),
    (
        "security added",
        params(),
        params(security=[{"HTTPBearer": []}]),
        {("api-security-added", "breaking")},
        {("api-security-became-optional", "info")},
    ),
    (
        "security requirement swapped",
        params(security=[{"A": []}]),
        params(security=[{"B": []}]),
        {("api-security-removed", "breaking"), ("api-security-alternative-added", "info")},
        {("api-security-removed", "breaking"), ("api-security-alternative-added", "info")},
    ),
    (
        "security scope",
        params(security=[{"O": ["read"]}]),
        params(security=[{"O": ["read", "write"]}]),
        {("api-security-scope-added", "breaking")},
        {("api-security-scope-removed", "info")},
    ),
    (
        "$ref'd component",
        resp({"$ref": "#/components/schemas/T"}, schemas={"T": obj({"a": S}, ["a"])}),
        resp({"$ref": "#/components/schemas/T"}, schemas={"T": obj({"a": S})}),
        {("response-property-became-optional", "breaking")},
        {("response-property-became-required", "info")},
    ),
    (
        "recursive component",
        resp(
            {"$ref": "#/components/schemas/N"},
            schemas={
                "N": obj(
                    {"kids": {"type": "array", "items": {"$ref": "#/components/schemas/N"}}, "v": S}, ["v"]
                )
            },
        ),
        resp(
            {"$ref": "#/components/schemas/N"},
            schemas={
                "N": obj({"kids": {"type": "array", "items": {"$ref": "#/components/schemas/N"}}, "v": S})
            },
        ),
        {("response-property-became-optional", "breaking")},
        {("response-property-became-required", "info")},
    ),
    ("description only", req({**S, "description": "x"}), req({**S, "description": "y"}), set(), set()),
    (
        "parameter explode (default made explicit is no change)",
        params({**q("tags", {"type": "array", "items": S}), "explode": True}),
        params({**q("tags", {"type": "array", "items": S}), "explode": False}),
        {("request-parameter-explode-changed", "breaking")},
        {("request-parameter-explode-changed", "breaking")},
    ),
    ("parameter style default", params(q("a")), params({**q("a"), "style": "form"}), set(), set()),
    (
        "parameter default",
        params(q("limit", {**I, "default": 10})),
        params(q("limit", {**I, "default": 50})),
        {("request-parameter-default-value-changed", "breaking")},
        {("request-parameter-default-value-changed", "breaking")},
    ),
    (
        "body property default",
        req(obj({"a": {**S, "default": "x"}})),
        req(obj({"a": S})),
        {("request-property-default-value-removed", "info")},
        {("request-property-default-value-added", "info")},
    ),
    (
        "query parameter scalar to string",
        params(q("n", I)),
        params(q("n", S)),
        {("request-parameter-type-generalized", "info")},
        {("request-parameter-type-changed", "breaking")},
    ),
    (
        "request wrapped in oneOf",
        req(obj({"a": S}, ["a"])),
        req({"oneOf": [obj({"a": S}, ["a"]), obj({"b": I}, ["b"])]}),
        {("request-body-one-of-added", "info")},
        {("request-body-one-of-removed", "breaking")},
    ),
    (
        "maxProperties",
        req({"type": "object", "maxProperties": 3}),
        req({"type": "object", "maxProperties": 2}),
        {("request-body-max-properties-decreased", "breaking")},
        {("request-body-max-properties-increased", "info")},
    ),
    (
        "response media type specialised / generalised",
        resp(S, media=("application/json",)),
        resp(S, media=("application/problem+json",)),
        {("response-media-type-name-specialized", "info")},
        {("response-media-type-name-generalized", "breaking")},
    ),
    (
        "response discriminator property",
        resp({"oneOf": [obj({"k": S})], "discriminator": {"propertyName": "k"}}),
        resp({"oneOf": [obj({"k": S})], "discriminator": {"propertyName": "kind"}}),
        {("response-body-discriminator-property-name-changed", "breaking")},
        {("response-body-discriminator-property-name-changed", "breaking")},
    ),
    (
        "dependentRequired in a request",
        req(obj({"a": S, "b": S})),
        req(obj({"a": S, "b": S}, dependentRequired={"a": ["b"]})),
        {("request-body-dependent-required-added", "breaking")},
        {("request-body-dependent-required-removed", "info")},
    ),
]


@pytest.mark.parametrize(
    ("case", "base", "revision", "forward", "backward"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_both_directions(
    case: str, base: Doc, revision: Doc, forward: set[tuple[str, str]], backward: set[tuple[str, str]]
) -> None:
    assert found(base, revision) == forward, case
    assert found(revision, base) == backward, case


def test_same_shaped_templates_pool_their_methods() -> None:
    """`/pet/{id}` (GET) and `/pet/{id2}` (POST) in one document: neither hides the other's operation."""
    get = {"get": {"responses": {"200": {"description": "ok"}}}}
    post = {"post": {"responses": {"200": {"description": "ok"}}}}
    base = document({"/pet/{id}": get})
    revision = document({"/pet/{id}": get, "/pet/{id2}": post})
    assert found(base, revision) == {("endpoint-added", "info")}
    assert found(revision, base) == {("api-removed-without-deprecation", "breaking")}


def test_every_emitted_id_is_registered_with_its_level() -> None:
    for _, _, _, forward, backward in CASES:
        for check_id, level in forward | backward:
            assert CHECKS[check_id].level.value == level


def test_change_records_the_operation_pointer_and_models() -> None:
    base = resp(
        {"$ref": "#/components/schemas/Page"},
        schemas={
            "Page": obj(
                {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}, ["items"]
            ),
            "Item": obj({"state": {"$ref": "#/components/schemas/State"}}, ["state"]),
            "State": {**S, "enum": ["a"]},
        },
    )
    revision = copy.deepcopy(base)
    revision["components"]["schemas"]["State"]["enum"].append("b")
    (change,) = diff(base, revision)
    assert change.operation == "GET /things"
    assert change.path == (
        "/paths/~1things/get/responses/200/content/application~1json/schema/properties/items/items/properties/state"
    )
    assert "`items[].state`" in change.text
    assert "status 200" in change.text
    assert change.components == ("Page", "Item", "State")
    (line,) = consequences([change], base)
    assert "retrace_client.api.things.things_list.{sync,sync_detailed,asyncio,asyncio_detailed}" in line
    assert "retrace_client.models.State" in line


def test_the_committed_document_against_itself_and_a_mutation() -> None:
    document_ = json.loads(DOCUMENT_PATH.read_text())
    assert diff(document_, document_) == []
    mutated = copy.deepcopy(document_)
    mutated["components"]["schemas"]["IngestionStatus"]["enum"].append("cancelled")
    ids = {(c.id, c.operation) for c in diff(document_, mutated)}
    assert ("request-parameter-enum-value-added", "GET /v1/marks") in ids
    assert ("response-property-enum-value-added", "GET /v1/marks/{mark_id}") in ids


def test_sdk_names_follow_the_generator() -> None:
    assert snake("marks-create") == "marks_create"
    assert pascal("IngestionOut") == "IngestionOut"
    assert snake(pascal("IngestionOut")) == "ingestion_out"
    assert model_class("MarkPage") == "retrace_client.models.MarkPage"
    modules = operation_modules(json.loads(DOCUMENT_PATH.read_text()))
    sdk = REPO_ROOT / "sdk" / "retrace-client"
    for module in modules.values():  # every module named exists in the committed SDK
        assert (sdk / (module.replace(".", "/") + ".py")).is_file(), module


# The levels file ---------------------------------------------------------------------------------


def test_levels_lower_raise_and_drop(tmp_path: Path) -> None:
    levels = tmp_path / "levels.toml"
    levels.write_text(
        '[levels]\n"request-body-enum-value-removed" = "warning"\n'
        '"request-body-enum-value-added" = "breaking"\n"request-body-pattern-removed" = "none"\n'
    )
    overrides = load_levels(levels)
    narrowed = apply_levels(diff(req({**S, "enum": ["a", "b"]}), req({**S, "enum": ["a"]})), overrides)
    assert [(c.id, c.level) for c in narrowed] == [("request-body-enum-value-removed", Level.WARNING)]
    widened = apply_levels(diff(req({**S, "enum": ["a"]}), req({**S, "enum": ["a", "b"]})), overrides)
    assert [c.level for c in widened] == [Level.BREAKING]
    assert apply_levels(diff(req({**S, "pattern": "x"}), req(S)), overrides) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[levels]\n"no-such-check" = "info"\n', "unknown check id 'no-such-check'"),
        ('[levels]\n"endpoint-added" = "fatal"\n', "is not one of breaking, warning, info, none"),
        ("[levels\n", "cannot be read"),
    ],
)
def test_levels_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    levels = tmp_path / "levels.toml"
    levels.write_text(content)
    with pytest.raises(LevelsError, match=message.replace("(", r"\(")):
        load_levels(levels)


def test_the_committed_levels_file_loads() -> None:
    load_levels()


# The version policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "allows"),
    [
        ("1.0.0", "2.0.0", MAJOR),
        ("1.0.0", "1.1.0", MINOR),
        ("1.0.0", "1.0.1", PATCH),
        ("1.0.0", "1.0.0", NONE),
        ("1.2.0", "1.1.9", -1),
        ("v1.0.0", "1.0.1-rc.1", PATCH),
        ("0.1.0", "0.2.0", MAJOR),
        ("0.1.0", "0.1.1", MINOR),
        ("0.1.0", "1.0.0", MAJOR),
    ],
)
def test_what_a_bump_allows(old: str, new: str, allows: int) -> None:
    assert granted(old, new) == allows


def _versioned(doc: Doc, version: str) -> Doc:
    out = copy.deepcopy(doc)
    out["info"]["version"] = version
    return out


BREAKING_PAIR = (req(obj({"a": S})), req(obj({"a": S}, ["a"])))
ADDITIVE_PAIR = (req(obj({"a": S})), req(obj({"a": S, "b": S})))
COSMETIC_PAIR = (req({**S, "description": "x"}), req({**S, "description": "y"}))


@pytest.mark.parametrize(
    ("pair", "old", "new", "ok"),
    [
        (BREAKING_PAIR, "1.0.0", "1.1.0", False),
        (BREAKING_PAIR, "1.0.0", "2.0.0", True),
        (BREAKING_PAIR, "0.1.0", "0.2.0", True),
        (BREAKING_PAIR, "0.1.0", "0.1.1", False),
        (ADDITIVE_PAIR, "1.0.0", "1.0.1", False),
        (ADDITIVE_PAIR, "1.0.0", "1.1.0", True),
        (ADDITIVE_PAIR, "0.1.0", "0.1.1", True),
        (ADDITIVE_PAIR, "1.0.0", "1.0.0", False),
        (COSMETIC_PAIR, "1.0.0", "1.0.0", False),
        (COSMETIC_PAIR, "1.0.0", "1.0.1", True),
        ((req(S), req(S)), "1.0.0", "1.0.0", True),
        (ADDITIVE_PAIR, "1.1.0", "1.0.5", False),
    ],
)
def test_version_policy(pair: tuple[Doc, Doc], old: str, new: str, ok: bool) -> None:
    base, revision = _versioned(pair[0], old), _versioned(pair[1], new)
    verdict = judge(base, revision, diff(base, revision))
    assert verdict.ok is ok, verdict.message
    if pair is BREAKING_PAIR and not ok:
        assert "request-property-became-required" in verdict.message


def test_a_property_named_description_is_not_cosmetic() -> None:
    base = _versioned(req(obj({"description": S})), "1.0.0")
    revision = _versioned(req(obj({"description": I})), "1.0.1")
    assert not judge(base, revision, []).ok  # judged as an API change (minor), not a doc one


def test_non_semver_versions_are_an_error() -> None:
    with pytest.raises(PolicyError, match="not a semantic version"):
        judge(_versioned(ADDITIVE_PAIR[0], "2024-01"), _versioned(ADDITIVE_PAIR[1], "2024-02"), [])


# The command line ---------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, doc: Doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_cli_exit_codes_and_formats(tmp_path: Path, cli: Callable[..., Ran]) -> None:
    base = _write(tmp_path, "base.json", BREAKING_PAIR[0])
    revision = _write(tmp_path, "rev.json", BREAKING_PAIR[1])
    bumped = _write(tmp_path, "bumped.json", _versioned(BREAKING_PAIR[1], "2.0.0"))
    additive = _write(tmp_path, "add.json", ADDITIVE_PAIR[1])

    done = cli(base, revision, "--format", "json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == [
        {
            "id": "request-property-became-required",
            "level": "breaking",
            "operation": "POST /things",
            "path": "/paths/~1things/post/requestBody/content/application~1json/schema/properties/a",
            "text": "the request property `a`: it became required",
            "oasdiff_id": "request-property-became-required",
        }
    ]
    assert "request-property-became-required" in done.stderr
    # Two files of someone else's: no version policy of ours excuses a breaking change.
    foreign_bump = cli(base, bumped)
    assert foreign_bump.returncode == 1
    assert "version bump" not in foreign_bump.stderr
    assert cli(base, additive).returncode == 0
    text = cli(base, revision)
    assert "breaking [request-property-became-required] POST /things" in text.stdout
    notes = cli(base, bumped, "--format", "markdown").stdout
    assert notes.startswith("# T 2.0.0")
    assert "## Breaking changes" in notes
    assert "things_create" in notes


def test_cli_reads_git_refs(cli: Callable[..., Ran]) -> None:
    done = cli("HEAD", str(DOCUMENT_PATH))
    assert done.returncode in (0, 1)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "openapi/retrace.json"], "missing.json is neither a file nor a git ref"),
        (["no-such-ref-5e1f~3", "openapi/retrace.json"], "is neither a file nor a git ref"),
        (["HEAD:openapi/nothing.json", "openapi/retrace.json"], "cannot be read"),
        (["{bad}", "openapi/retrace.json"], "is not valid JSON"),
        (["openapi/retrace.json", "openapi/retrace.json", "--levels", "{levels}"], "unknown check id 'nope'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, cli: Callable[..., Ran], args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    levels = tmp_path / "levels.toml"
    levels.write_text('[levels]\n"nope" = "info"\n')
    done = cli(*[a.replace("{bad}", str(bad)).replace("{levels}", str(levels)) for a in args])
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_cli_as_a_process_has_no_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.lattice", "spec", "diff", "missing.json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("spec diff: missing.json is neither a file nor a git ref")
    assert "Traceback" not in done.stderr


def test_diffing_two_files_loads_neither_the_target_nor_the_service_sets(tmp_path: Path) -> None:
    """`spec diff a b` starts fast (issue 29: ≈ 2 s of imports for two files): what it loads is checked,
    not timed — SQLAlchemy, pydantic-settings and the service sets are the ≈ 2 s it must not pay."""
    changed = copy.deepcopy(json.loads(DOCUMENT_PATH.read_text()))
    del changed["paths"]["/healthz"]
    revision = tmp_path / "revision.json"
    revision.write_text(json.dumps(changed))
    probe = (
        "import sys\n"
        "from tools.lattice.cli import main\n"
        f"code = main(['spec', 'diff', {str(DOCUMENT_PATH)!r}, {str(revision)!r}])\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'pydantic_settings', 'tools.lattice.services',"
        " 'tools.lattice.seam.targeting') if m in sys.modules)\n"
        "print('loaded:', heavy, 'code:', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert "loaded: [] code: 1" in done.stdout, done.stdout + done.stderr
