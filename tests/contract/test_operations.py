"""One contract case per operation of the committed OpenAPI document (a new route is covered without
touching this file): valid input gets a documented 2xx, schema-breaking input a documented 4xx problem,
secured operations refuse anonymous, malformed and revoked tokens, other users' objects are 404; every
response is checked against the document (tools.lattice.engines.contract.ALL_CHECKS, openapi-core)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.settings import Settings
from tests.contract.strategies import broken_bodies, out_of_bounds_values, valid_bodies
from tests.contract.world import SPECIAL_INPUTS, World
from tools.lattice.chain.document import load_committed, resolve
from tools.lattice.engines.contract import (
    Case,
    Operation,
    exercise,
    expect_client_error,
    expect_status,
    expect_success,
    operations,
)
from tools.lattice.seam.accounts import SignedInUser

OPERATIONS = operations()
SECURED = [op for op in OPERATIONS if op.secured]
WITH_PATH_OBJECTS = [op for op in SECURED if op.parameters("path")]


def _ids(ops: list[Operation]) -> list[str]:
    return [op.operation_id for op in ops]


def _breakable(op: Operation) -> bool:
    return bool(op.parameters("path") or op.parameters("query") or op.json_body_component or op.binary_body)


BREAKABLE = [op for op in OPERATIONS if _breakable(op)]


def test_every_operation_is_covered() -> None:
    """The parametrized sets below are derived from the document, so they cover every operation."""
    assert {op.operation_id for op in OPERATIONS} == {
        op["operationId"] for item in load_committed()["paths"].values() for op in item.values()
    }
    no_input = {op.operation_id for op in OPERATIONS} - {op.operation_id for op in BREAKABLE}
    # These take no parameters and no body: there is no input to break (auth is still checked below).
    assert all(not op.takes_input for op in OPERATIONS if op.operation_id in no_input)
    assert set(SPECIAL_INPUTS) <= {op.operation_id for op in OPERATIONS}


@pytest.mark.parametrize("op", OPERATIONS, ids=_ids(OPERATIONS))
@given(data=st.data())
def test_valid_input_is_accepted(
    op: Operation, data: st.DataObject, world: World, user: SignedInUser
) -> None:
    case = world.positive_case(data, op, user)
    exercise(world.api, case, expect_success)


# ---- negative: valid input broken in one way


def _broken_path(op: Operation, data: st.DataObject, case: Case) -> str:
    param = data.draw(st.sampled_from(op.parameters("path")), label="path parameter")
    case.path_params[param["name"]] = data.draw(
        st.sampled_from(["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"]), label="bad id"
    )
    return f"path {param['name']}"


def _broken_query(op: Operation, data: st.DataObject, case: Case) -> str:
    doc = load_committed()
    candidates: list[tuple[str, Any]] = []
    for param in op.parameters("query"):
        schema = resolve(param["schema"], doc)
        values = out_of_bounds_values(schema)
        branches = schema.get("anyOf", [schema])
        if any(b.get("type") == "integer" for b in branches):
            values += ["abc", "1.5"]
        if param["name"] == "cursor":
            values.append("not-a-cursor")  # cursors are opaque, but a forged one is still bad input
        candidates += [(param["name"], v) for v in values]
    name, value = data.draw(st.sampled_from(candidates), label="bad query")
    case.query[name] = value
    return f"query {name}"


def _broken_body(op: Operation, data: st.DataObject, case: Case, settings: Settings) -> str:
    if op.json_body_component:
        if data.draw(st.integers(0, 4), label="raw") == 0:
            raw = data.draw(st.sampled_from([b'{"not": json', b"\x80", b'{"a": "\xc3("}']), label="raw body")
            case.has_json_body, case.content = False, raw
            case.headers["Content-Type"] = "application/json"
            return "body not JSON in UTF-8"
        how, case.json_body = data.draw(broken_bodies(op.json_body_component), label="broken body")
        case.has_json_body = True
        return f"body {how}"
    way = data.draw(st.sampled_from(["oversize", "no-length"]), label="bad upload")
    if way == "oversize":
        case.content = b"x" * (settings.max_upload_bytes + 1)
    else:
        case.content, case.stream = data.draw(st.binary(min_size=1, max_size=64), label="bytes"), True
    case.headers["Content-Type"] = "application/octet-stream"
    return f"upload {way}"


@pytest.mark.parametrize("op", BREAKABLE, ids=_ids(BREAKABLE))
@given(data=st.data())
def test_invalid_input_is_rejected(
    op: Operation, data: st.DataObject, world: World, user: SignedInUser, settings: Settings
) -> None:
    actor = world.fresh_user() if op.operation_id == "users-delete-me" else user
    case = Case(op, "negative", headers=dict(actor.headers) if op.secured else {})
    case.path_params = world.path_params(data, op, actor)
    world.prepare(data, op, actor, case.path_params)
    if op.json_body_component and op.operation_id not in SPECIAL_INPUTS:
        case.json_body, case.has_json_body = (
            data.draw(valid_bodies(op.json_body_component), label="body"),
            True,
        )
    elif op.json_body_component:
        case.json_body, case.has_json_body = world.special_body(op), True
    elif op.binary_body:
        case.content = b"bytes"
    targets = [
        t
        for t, present in (
            ("path", op.parameters("path")),
            ("query", op.parameters("query")),
            ("body", op.json_body_component or op.binary_body),
        )
        if present
    ]
    target = data.draw(st.sampled_from(targets), label="what to break")
    if target == "path":
        how = _broken_path(op, data, case)
    elif target == "query":
        how = _broken_query(op, data, case)
    else:
        how = _broken_body(op, data, case, settings)
    case.kind = f"negative: {how}"
    exercise(world.api, case, expect_client_error)


# ---- authentication and ownership


def _authless_case(op: Operation, data: st.DataObject, kind: str, headers: dict[str, str]) -> Case:
    """A request that is valid but for its credentials (path objects need not exist: auth comes first)."""
    case = Case(op, kind, headers=headers)
    case.path_params = {p["name"]: str(data.draw(st.uuids(), label=p["name"])) for p in op.parameters("path")}
    if op.json_body_component and op.operation_id not in SPECIAL_INPUTS:
        case.json_body, case.has_json_body = (
            data.draw(valid_bodies(op.json_body_component), label="body"),
            True,
        )
    elif op.binary_body:
        case.content = b"bytes"
    return case


@pytest.mark.parametrize("op", SECURED, ids=_ids(SECURED))
@given(data=st.data())
def test_secured_operations_refuse_missing_and_bad_tokens(
    op: Operation, data: st.DataObject, world: World
) -> None:
    kind, headers = data.draw(
        st.sampled_from(
            [
                ("anonymous", {}),
                ("malformed token", {"Authorization": "Bearer not-a-token"}),
                ("wrong scheme", {"Authorization": "Basic dXNlcjpwYXNz"}),
                ("unknown api token", {"Authorization": "Bearer rt_" + "0" * 40}),
            ]
        ),
        label="credentials",
    )
    exercise(world.api, _authless_case(op, data, kind, headers), expect_status(401))


@pytest.mark.parametrize("op", SECURED, ids=_ids(SECURED))
def test_revoked_api_token_is_refused(op: Operation, world: World, user: SignedInUser) -> None:
    created = world.api.post("/v1/tokens", json={"name": "to revoke"}, headers=user.headers)
    assert created.status_code == 201, created.text
    token = created.json()
    revoked = world.api.delete(f"/v1/tokens/{token['id']}", headers=user.headers)
    assert revoked.status_code == 204, revoked.text

    @given(data=st.data())
    def revoked_token(data: st.DataObject) -> None:
        headers = {"Authorization": f"Bearer {token['token']}"}
        exercise(world.api, _authless_case(op, data, "revoked api token", headers), expect_status(401))

    revoked_token()


@pytest.mark.parametrize("op", WITH_PATH_OBJECTS, ids=_ids(WITH_PATH_OBJECTS))
@given(data=st.data())
def test_objects_of_another_user_are_not_found(
    op: Operation, data: st.DataObject, world: World, user: SignedInUser, other_user: SignedInUser
) -> None:
    case = Case(op, "another user's object", headers=dict(user.headers))
    case.path_params = world.path_params(data, op, other_user)
    world.prepare(data, op, other_user, case.path_params)
    if op.json_body_component:
        case.json_body, case.has_json_body = (
            data.draw(valid_bodies(op.json_body_component), label="body"),
            True,
        )
    elif op.binary_body:
        case.content = data.draw(st.binary(max_size=256), label="bytes")
    exercise(world.api, case, expect_status(404))
