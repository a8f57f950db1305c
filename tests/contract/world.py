"""What a contract case needs before it is sent: objects for its path parameters, found through the
document's OpenAPI links (the operation whose link feeds the parameter creates one), and state that an
operation acts on (a GET/DELETE of a path that also has a binary PUT needs that upload first).

Two operations cannot be fed by generated input alone; SPECIAL_INPUTS says why and how they are fed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import strategies as st

from tests.contract.strategies import valid_bodies
from tools.lattice.engines.contract import (
    Case,
    Operation,
    component_schema,
    creator_of,
    exercise,
    expect_success,
    operations,
)
from tools.lattice.engines.schemavalues import complete
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in

SPECIAL_INPUTS = {
    # (parameter `cursor` of marks-list: opaque, taken from a real `next_cursor`; see issued_cursor)
    "auth-verify-code": "needs a challenge id and its mailed code: requested, then read from the Maildir",
    "users-delete-me": "ends the account: each example runs as a freshly signed-in user",
}

ATTACHMENT_TYPES = st.sampled_from(
    ["application/octet-stream", "text/plain", "text/plain; charset=utf-8", "image/png", "application/pdf"]
)


@dataclass
class World:
    api: httpx.Client
    mailbox: Mailbox

    def fresh_user(self) -> SignedInUser:
        return sign_in(self.api, self.mailbox, f"contract-{uuid.uuid4().hex[:16]}@example.test")

    def path_params(self, data: st.DataObject | None, op: Operation, owner: SignedInUser) -> dict[str, str]:
        """An existing object of `owner` for each path parameter, created by the linked operation (with a
        drawn body, or without `data` one with every property set)."""
        params: dict[str, str] = {}
        for param in op.parameters("path"):
            found = creator_of(op, operations())
            assert found is not None, f"{op.operation_id}: no OpenAPI link creates its {param['name']}"
            creator, name, pointer = found
            # The creating request is generated and checked like any other case.
            setup = Case(creator, "setup", headers=dict(owner.headers), has_json_body=True)
            component = creator.json_body_component or ""
            setup.json_body = (
                data.draw(valid_bodies(component), label=f"{creator.operation_id} body")
                if data is not None
                else complete(component_schema(component))
            )
            response = exercise(self.api, setup, expect_success)
            params[name] = str(response.json()[pointer])
        return params

    def prepare(
        self, data: st.DataObject, op: Operation, owner: SignedInUser, params: dict[str, str]
    ) -> bytes:
        """Upload bytes first when `op` reads or deletes what a binary PUT of its path stores."""
        if op.method not in ("get", "delete"):
            return b""
        upload = next(
            (o for o in operations() if o.path == op.path and o.method == "put" and o.binary_body), None
        )
        if upload is None:
            return b""
        content = data.draw(st.binary(max_size=2048), label="stored bytes")
        stored_type = data.draw(ATTACHMENT_TYPES, label="stored type")
        setup = Case(upload, "setup", params, headers={**owner.headers, "Content-Type": stored_type})
        setup.content = content
        exercise(self.api, setup, expect_success)
        return content

    def issued_cursor(self, data: st.DataObject, op: Operation, owner: SignedInUser) -> str:
        """Cursors are opaque: the only valid ones are those the operation issued (`next_cursor`)."""
        creator = next(o for o in operations() if o.method == "post" and o.path == op.path)
        for _ in range(2):
            setup = Case(creator, "setup", headers=dict(owner.headers), has_json_body=True)
            setup.json_body = data.draw(valid_bodies("MarkCreate"), label="mark for a second page")
            exercise(self.api, setup, expect_success)
        page = exercise(
            self.api, Case(op, "setup", headers=dict(owner.headers), query={"limit": 1}), expect_success
        )
        cursor = page.json()["next_cursor"]
        assert isinstance(cursor, str), page.text
        return cursor

    def special_body(self, op: Operation) -> dict[str, Any]:
        if op.operation_id == "auth-verify-code":
            email = f"verify-{uuid.uuid4().hex[:16]}@example.test"
            challenge = self.api.post("/v1/auth/otp", json={"email": email})
            assert challenge.status_code == 202, challenge.text
            return {"challenge_id": challenge.json()["challenge_id"], "code": self.mailbox.latest_code(email)}
        raise KeyError(op.operation_id)

    def positive_case(self, data: st.DataObject, op: Operation, user: SignedInUser) -> Case:
        """A valid request for `op` as `user` (or as a fresh account where SPECIAL_INPUTS says so)."""
        actor = self.fresh_user() if op.operation_id == "users-delete-me" else user
        case = Case(op, "positive", headers=dict(actor.headers) if op.secured else {})
        case.path_params = self.path_params(data, op, actor)
        stored = self.prepare(data, op, actor, case.path_params)
        from tests.contract.strategies import valid_params

        case.query = data.draw(valid_params(op, "query"), label="query")
        if "cursor" in case.query:
            case.query["cursor"] = self.issued_cursor(data, op, actor)
        if op.operation_id in SPECIAL_INPUTS and op.json_body_component:
            case.json_body, case.has_json_body = self.special_body(op), True
        elif op.json_body_component:
            case.json_body = data.draw(valid_bodies(op.json_body_component), label="body")
            case.has_json_body = True
        elif op.binary_body:
            case.content = data.draw(st.binary(max_size=4096), label="bytes")
            case.headers["Content-Type"] = data.draw(ATTACHMENT_TYPES, label="content type")
        if stored and op.method == "get" and data.draw(st.booleans(), label="ranged"):
            start = data.draw(st.integers(0, len(stored) - 1), label="range start")
            end = data.draw(st.integers(start, len(stored) - 1), label="range end")
            case.headers["Range"] = f"bytes={start}-{end}"
        return case
