"""A valid request for any operation of the document, built from the document alone, as raw bytes.

The sweeps by class (tests/race/test_sweep_*.py) take an operation they never heard of and must send it
something it accepts, so that a stall, an oversized part or an odd parameter meets the operation where
it does its work, not at a 401 or a 404 in front of it:

- auth: every request is built on an account of its own, signed in for it, so a request that ends
  something (a token, a mark, the account itself) ends nothing any other request relies on;
- path parameters: a real object, made by the operation whose OpenAPI link feeds the parameter;
- stored bytes: a read or delete of a path that also has a binary PUT finds bytes uploaded first;
- a JSON body: the schema's complete valid object (`tools.lattice.engines.schemavalues.complete`), except
  where a valid body holds something only the service can hand out (`OBTAINED_BODIES`);
- a binary body: some bytes with a Content-Length.

The request is kept as parts (method, target, headers, body) so a sweep can send it whole, its head
alone, or one header or its body grown past a bound, over `tools.lattice.engines.race.rawhttp`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import httpx

from tools.lattice.engines.contract import Operation, component_schema, creator_of, operations
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.documented import binary_put, mailed_challenge
from tools.lattice.engines.schemavalues import complete
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in


@dataclass(frozen=True)
class Built:
    """One operation's valid request, and the account it runs as (None: an anonymous operation)."""

    operation: Operation
    path: str  # path parameters filled in, no query
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # Content-Length excluded
    body: bytes | None = None
    actor: SignedInUser | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    @property
    def method(self) -> str:
        return self.operation.method.upper()

    def with_query(self, **query: str) -> Built:
        return replace(self, query={**self.query, **query})

    def with_headers(self, **headers: str) -> Built:
        return replace(self, headers={**self.headers, **headers})

    def head(self, *, content_length: int | None = None, target: str | None = None) -> bytes:
        """The request line and headers; Content-Length is the body's unless given."""
        headers = dict(self.headers)
        length = content_length if content_length is not None else len(self.body or b"")
        if self.body is not None or content_length is not None:
            headers["Content-Length"] = str(length)
        return rawhttp.head(self.method, target or self.target, headers)

    def raw(self) -> bytes:
        return self.head() + (self.body or b"")

    def send(self, client: httpx.Client, **extra_headers: str) -> httpx.Response:
        return client.request(
            self.method,
            self.target,
            headers={**self.headers, **extra_headers},
            content=self.body,
        )


# Operations whose valid body holds what only the service hands out (here: a code it mailed).
ObtainBody = Callable[["RequestBuilder"], dict[str, Any]]


def _a_mailed_code(builder: RequestBuilder) -> dict[str, Any]:
    return mailed_challenge(builder.api, builder.mailbox)


OBTAINED_BODIES: dict[str, ObtainBody] = {"auth-verify-code": _a_mailed_code}


@dataclass
class RequestBuilder:
    api: httpx.Client
    mailbox: Mailbox
    prefix: str = "race"

    def fresh_user(self) -> SignedInUser:
        return sign_in(self.api, self.mailbox, f"{self.prefix}-{uuid.uuid4().hex[:16]}@example.test")

    def build(self, op: Operation, *, stored_bytes: int = 1024) -> Built:
        """A valid request for `op` on a fresh account; a stored attachment has `stored_bytes` bytes."""
        actor = self.fresh_user() if op.secured or op.parameters("path") else None
        auth = dict(actor.headers) if actor is not None and op.secured else {}
        params = {name: self._object_for(op, name, auth) for name in _path_names(op)}
        path = op.url(params)
        self._store_bytes(op, path, auth, stored_bytes)
        headers = dict(auth)
        body: bytes | None = None
        if op.json_body_component is not None:
            obtain = OBTAINED_BODIES.get(op.operation_id)
            value = obtain(self) if obtain else complete(component_schema(op.json_body_component))
            body = json.dumps(value).encode()
            headers["Content-Type"] = "application/json"
        elif op.binary_body:
            body = b"race bytes " * 8
            headers["Content-Type"] = "application/octet-stream"
        return Built(op, path, {}, headers, body, actor, params)

    def _object_for(self, op: Operation, name: str, auth: Mapping[str, str]) -> str:
        found = creator_of(op, operations())
        assert found is not None, f"{op.operation_id}: no OpenAPI link creates its {name}"
        creator, _, pointer = found
        body = complete(component_schema(creator.json_body_component or ""))
        made = self.api.request(creator.method.upper(), creator.url({}), json=body, headers=dict(auth))
        assert made.is_success, f"making a {name} for {op.operation_id}: {made.status_code} {made.text}"
        return str(made.json()[pointer])

    def _store_bytes(self, op: Operation, path: str, auth: Mapping[str, str], size: int) -> None:
        if op.method not in ("get", "delete"):
            return
        if binary_put(op) is None:
            return
        content = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        stored = self.api.put(
            path, content=content, headers={**auth, "Content-Type": "application/octet-stream"}
        )
        assert stored.is_success, f"storing bytes for {op.operation_id}: {stored.status_code} {stored.text}"


def _path_names(op: Operation) -> list[str]:
    return [p["name"] for p in op.parameters("path")]
