"""Downloads that a client read slowly (or never) held a database connection each, until the pool was gone.

What broke: `GET /v1/marks/{id}/attachment` answered with a streaming body while the request's session
(a FastAPI dependency with `yield`, which by default ends after the response is sent) kept its request
slot and an open transaction until the client had read the last byte. 16 sockets that asked for a 1 MiB
attachment and never read left every pooled connection `idle in transaction`, and `GET /v1/me` waited
30 s and answered 503 `service_busy`. Every route on the request's session had the same hold across
its answer, only shorter. Found by a grey-box probe (issue 26, defect 1).

What fixed it: the session dependency is function-scoped (`app/deps.py`, `SessionDep`): it ends when the
route returns, before the first byte of the answer; a download opens its blob before that (so it no
longer needs the session while it streams).

Locked reproductions:
- every operation of the document, driven through the app by hand with a client that is slow both
  ways: while the app waits for the second part of a body, and while the answer's headers wait for
  the client to take them, the app holds no pooled connection and no request slot.
  Checked: on the code before the fix every operation on the request's session holds its slot there
  (this case fails, naming them); with the fix none does. An operation added later is swept too.
- on `retrace api` over a real port: pool + 2 downloads of an 8 MiB attachment whose clients never
  read (a 4 KiB receive window), then `GET /v1/me` answers 200 and no connection of the API is idle in
  a transaction. Checked: on the code before the fix `GET /v1/me` answers 503 after the pool timeout.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import anyio
import httpx
import pytest

from app.main import create_app
from app.runtime import Runtime
from tests.integration.flows import create_mark, unique_email
from tools.lattice.chain.document import resolve
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.asgi import drive
from tools.lattice.engines.race.observe import backends_of
from tools.lattice.engines.schemavalues import minimal
from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in

ATTACHMENT = os.urandom(256 * 1024)
BIG_ATTACHMENT_BYTES = 8 * 1024 * 1024  # more than the kernel's send buffer can take (tcp_wmem max 4 MiB)
POOL_TIMEOUT_S = 5.0


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _request_for(
    client: httpx.Client, user: SignedInUser, document: dict[str, Any], path: str, operation: dict[str, Any]
) -> tuple[str, dict[str, str], bytes]:
    """The path with its ids filled (objects of `user` that exist), its headers and a valid body."""
    if "{mark_id}" in path:
        mark = create_mark(client, user.headers, note="swept")
        uploaded = client.put(f"/v1/marks/{mark['id']}/attachment", content=ATTACHMENT, headers=user.headers)
        assert uploaded.status_code == 200, uploaded.text
        path = path.replace("{mark_id}", mark["id"])
    if "{token_id}" in path:
        token = client.post("/v1/tokens", json={"name": "swept"}, headers=user.headers)
        assert token.status_code == 201, token.text
        path = path.replace("{token_id}", token.json()["id"])
    assert "{" not in path, f"{path}: say here how to fill its path parameters"
    headers = dict(user.headers)
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = resolve(content["application/json"]["schema"], document)
        return (
            path,
            {**headers, "Content-Type": "application/json"},
            httpx.Response(200, json=minimal(schema)).content,
        )
    if content:
        return path, {**headers, "Content-Type": "text/plain", "Content-Length": "5"}, b"bytes"
    return path, headers, b""


def test_no_operation_holds_a_connection_while_its_answer_waits_for_the_client(
    lattice: WorkerLattice, api: httpx.Client, mailbox: Mailbox
) -> None:
    app = create_app(settings=lattice.plane.settings())
    runtime: Runtime = app.state.runtime
    document = app.openapi()

    def held() -> tuple[int, int]:
        checked_out: int = runtime.engine.pool.checkedout()  # type: ignore[attr-defined]
        return checked_out, int(runtime.db_slots.borrowed_tokens)

    holding, answered = {}, {}
    try:
        for method, path, operation in _operations(document):
            user = sign_in(api, mailbox, unique_email("swept"))
            target, headers, body = _request_for(api, user, document, path, operation)
            if body:
                headers["Content-Length"] = str(len(body))
            # A body comes in two parts, the app waiting for the second: a client slow to send.
            parts = [body[:1], body[1:]] if body else [body]
            driven = anyio.run(
                partial(
                    drive,
                    app,
                    method,
                    target,
                    headers,
                    body_parts=parts,
                    between_parts=held,
                    at_response_start=held,
                )
            )
            name = f"{method} {path}"
            answered[name] = driven.status
            assert driven.raised is None, f"{name}: the app raised {driven.raised!r}"
            for moment, seen in (("body awaited", driven.between), ("answer unread", driven.at_start)):
                if seen not in (None, (0, 0)):
                    holding[f"{name}, {moment}"] = seen
    finally:
        runtime.close()
    assert all(status is not None and status < 500 for status in answered.values()), answered
    assert len(answered) >= 17, f"only {len(answered)} operations swept: {sorted(answered)}"
    assert not holding, (
        f"(connections checked out, request slots borrowed) while waiting for the client: {holding}"
    )


@pytest.fixture(scope="module")
def api_process(lattice: WorkerLattice) -> Iterator[LiveStack]:
    """`retrace api` on this worker's planes, with a short pool timeout so a taken pool shows at once."""
    logs = lattice.plane.names.directory / "regression-slow-downloads"
    settings = lattice.plane.settings(db_pool_timeout_s=POOL_TIMEOUT_S, max_upload_bytes=BIG_ATTACHMENT_BYTES)
    with start_live_stack(settings, logs, with_worker=False, timeout_s=START_TIMEOUT_S) as stack:
        yield stack


def _download_never_read(base_url: str, path: str, headers: dict[str, str]) -> socket.socket:
    """A GET whose client takes almost nothing of the answer: a 4 KiB window, never read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = base_url.removeprefix("http://").split(":")
    sock.settimeout(10)
    sock.connect((host, int(port)))
    sock.sendall(rawhttp.head("GET", path, headers))
    return sock


def test_downloads_never_read_leave_the_pool_to_others(
    api_process: LiveStack, lattice: WorkerLattice, api: httpx.Client, mailbox: Mailbox
) -> None:
    pool = lattice.plane.settings().db_pool_size
    with httpx.Client(base_url=api_process.base_url, timeout=POOL_TIMEOUT_S * 3) as live:
        user = sign_in(live, mailbox, unique_email("reader"))
        mark = create_mark(live, user.headers, note="large")
        path = f"/v1/marks/{mark['id']}/attachment"
        put = live.put(path, content=os.urandom(BIG_ATTACHMENT_BYTES), headers=user.headers)
        assert put.status_code == 200, put.text
        sockets = [_download_never_read(api_process.base_url, path, user.headers) for _ in range(pool + 2)]
        try:
            time.sleep(1.0)  # every download has reached its route and filled its window
            began = time.monotonic()
            me = live.get("/v1/me", headers=user.headers)
            waited = time.monotonic() - began
            held = [
                b
                for b in backends_of(lattice.engine, api_process.processes["api"].pid)
                if b.state.startswith("idle in transaction")
            ]
        finally:
            for sock in sockets:
                rawhttp.reset(sock)
    assert me.status_code == 200, (
        f"GET /v1/me with {len(sockets)} unread downloads: {me.status_code} after {waited:.1f}s"
    )
    assert not held, f"{len(held)} connection(s) idle in transaction behind unread downloads: {held[:3]}"
