"""A valid request for any operation of the committed document, built at run time (the race sweeps' input).

The objects an operation's path names are made through the document's OpenAPI links (the operation
whose link feeds the parameter creates one: a mark for `mark_id`, a token for `token_id`); when a
binary PUT exists on the same path, bytes are uploaded there first (a download or a delete of an
attachment needs one). A JSON body is the schema's smallest valid object with every free-text
property it admits set to a unique marker, so whether the write landed can be read back from the
database. Nothing here names a route: an operation added to the document gets its requests the same way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tools.lattice.engines.contract import Operation, component_schema, creator_of, operations
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.schemavalues import conforms, minimal
from tools.lattice.seam.accounts import Mailbox, SignedInUser

# A body the document alone cannot give (as in the contract suite's SPECIAL_INPUTS): a challenge id
# and the code mailed for it.
CHALLENGE_OPERATION = "auth-verify-code"


def new_marker() -> str:
    return f"rc{uuid.uuid4().hex[:14]}"


def bytes_of(marker: str, size: int) -> bytes:
    """`size` bytes that belong to `marker` alone (so a body can be told from any other whole)."""
    seed = hashlib.sha256(marker.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def marked_body(component: str, marker: str, *, every: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The component's smallest valid object with each free-text property set to a value holding
    `marker` where the schema admits one: every property (`every`), or only those the smallest object
    needs. The body and the values written."""
    schema = component_schema(component)
    body = minimal(schema)
    written: list[str] = []
    for name in schema.get("properties", {}) if every else list(body):
        for value in (marker, f"https://race.test/{marker}", f"{marker}@example.test"):
            candidate = {**body, name: value}
            if conforms(candidate, schema):
                body = candidate
                written.append(value)
                break
    return body, written


@dataclass
class Built:
    """One request, ready to send through httpx or to write on a raw socket."""

    op: Operation
    path: str
    headers: dict[str, str]
    json_body: Any = None
    content: bytes | None = None
    written: list[str] = field(default_factory=list)  # unique values the request stores
    params: dict[str, str] = field(default_factory=dict)
    stored: bytes | None = None  # what the path's attachment held when the request was built

    @property
    def body(self) -> bytes | None:
        if self.json_body is not None:
            return json.dumps(self.json_body).encode()
        return self.content

    def send(self, client: httpx.Client, **overrides: str) -> httpx.Response:
        headers = {**self.headers, **overrides}
        body = self.body
        if self.json_body is not None:
            headers["Content-Type"] = "application/json"
        return client.request(self.op.method.upper(), self.path, headers=headers, content=body)

    def wire(self, **overrides: str) -> tuple[bytes, bytes]:
        """The request head and body as bytes, for a raw socket."""
        body = self.body or b""
        headers = {**self.headers, **overrides, "Content-Length": str(len(body))}
        if self.json_body is not None:
            headers["Content-Type"] = "application/json"
        return rawhttp.head(self.op.method.upper(), self.path, headers), body


def by_id(operation_id: str) -> Operation:
    return next(op for op in operations() if op.operation_id == operation_id)


def same_path(op: Operation, method: str) -> Operation | None:
    """The operation with `method` on `op`'s path (e.g. the GET that reads what a PUT stored)."""
    return next((o for o in operations() if o.path == op.path and o.method == method), None)


def binary_put(op: Operation) -> Operation | None:
    put = same_path(op, "put")
    return put if put is not None and put.binary_body else None


class Builder:
    """Builds requests as `user` (with `user`'s API token, so a session token stays to revoke it with)."""

    def __init__(
        self,
        client: httpx.Client,
        mailbox: Mailbox,
        user: SignedInUser,
        stored_bytes: int,
        *,
        fill: bool = True,
    ) -> None:
        """`stored_bytes`: the size of uploaded bytes; `fill`: whether objects a path needs are created
        with every property set (else with only what the smallest valid body needs)."""
        self.client, self.mailbox, self.user = client, mailbox, user
        self.stored_bytes, self.fill = stored_bytes, fill

    @property
    def auth(self) -> dict[str, str]:
        return self.user.api_headers if self.user.api_token else self.user.headers

    def _create_for(self, op: Operation) -> dict[str, str]:
        params: dict[str, str] = {}
        for _ in op.parameters("path"):
            found = creator_of(op, operations())
            assert found is not None, f"{op.operation_id}: no OpenAPI link creates its path parameter"
            creator, name, pointer = found
            body, _ = marked_body(creator.json_body_component or "", new_marker(), every=self.fill)
            response = self.client.post(creator.path, json=body, headers=self.user.headers)
            assert response.status_code in creator.success_statuses, (creator.operation_id, response.text)
            params[name] = str(response.json()[pointer])
        return params

    def build(self, op: Operation, *, params: Mapping[str, str] | None = None) -> Built:
        """A valid request for `op`; its path's objects created (with bytes stored, where a binary PUT of
        its path exists and `op` reads or deletes them) unless `params` names existing ones."""
        created = params is None
        params = dict(params) if params is not None else self._create_for(op)
        built = Built(op, op.url(params), dict(self.auth) if op.secured else {}, params=params)
        upload = binary_put(op)
        if created and upload is not None and op.method in ("get", "delete") and params:
            built.stored = bytes_of(new_marker(), self.stored_bytes)
            stored = self.client.put(upload.url(params), content=built.stored, headers=self.user.headers)
            assert stored.status_code in upload.success_statuses, stored.text
        marker = new_marker()
        if op.operation_id == CHALLENGE_OPERATION:
            built.json_body = self.challenge()
        elif op.json_body_component:
            built.json_body, built.written = marked_body(op.json_body_component, marker)
        elif op.binary_body:
            built.content = bytes_of(marker, self.stored_bytes)
            built.headers["Content-Type"] = "application/octet-stream"
            built.written = [hashlib.sha256(built.content).hexdigest()]
        return built

    def challenge(self) -> dict[str, str]:
        return mailed_challenge(self.client, self.mailbox)


def mailed_challenge(client: httpx.Client, mailbox: Mailbox) -> dict[str, str]:
    """A valid body for the code's verification: a challenge asked for a new address, and its mailed code."""
    email = f"{new_marker()}@example.test"
    asked = client.post("/v1/auth/otp", json={"email": email})
    assert asked.status_code == 202, asked.text
    return {"challenge_id": asked.json()["challenge_id"], "code": mailbox.latest_code(email)}
