"""JSON request bodies of any size were read whole before anything checked them.

What broke: FastAPI reads a route's body whole before validating it, and nothing bounded it: 100 MB
posted to `POST /v1/auth/otp`, with no sign-in needed, were buffered in full, and a client declaring
100 MB was waited for until it had sent them. Found by grey-box probing (issue 26, defect 4).

What fixed it: one ASGI middleware (`app/bodylimit.py`) bounds the body of every route that has one
FastAPI parses: 413 `payload_too_large` from a Content-Length over `RETRACE_MAX_JSON_BODY_BYTES` before
the app runs, or as soon as a chunked body passes it; the connection is closed after. The document lists
413 on every operation with a JSON body.

Locked reproduction, on `retrace api` over a real port: for every operation the served document gives a
JSON body (enumerated at run time), a head declaring one byte over the bound is answered 413 before any
body byte is sent; 8 MB of chunked JSON to `POST /v1/auth/otp` is refused (413, or closed on us mid-send)
with the API's RSS growing by less than 16 MB. Checked: on the code before the fix every head waits for
its body (no answer within the deadline) and the chunked body is read whole and answered 422: all fail.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.flows import assert_problem
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.observe import rss_bytes
from tools.lattice.live.stack import LiveStack

pytestmark = pytest.mark.live

CHUNKED_BYTES = 8 * 1024 * 1024
RSS_GROWTH_BOUND = 16 * 1024 * 1024


def _json_operations(live_stack: LiveStack) -> list[tuple[str, str]]:
    with live_stack.client() as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    return [
        (method.upper(), _fill(path))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def _fill(path: str) -> str:
    """The path with a fresh id for each parameter (the body is refused before the id is looked up)."""
    parts = [str(uuid.uuid4()) if part.startswith("{") else part for part in path.split("/")]
    return "/".join(parts)


def test_every_json_body_over_the_bound_is_refused_from_its_content_length(live_stack: LiveStack) -> None:
    limit = live_stack.settings.max_json_body_bytes
    operations = _json_operations(live_stack)
    assert len(operations) >= 6, operations  # otp, verify, tokens, me, marks create and update
    late = []
    for method, path in operations:
        sock = rawhttp.connect(live_stack.base_url)
        try:
            headers = {"Content-Type": "application/json", "Content-Length": str(limit + 1)}
            sock.sendall(rawhttp.head(method, path, headers))  # and not a byte of the body
            try:
                answer = rawhttp.read_response(sock, timeout_s=5)
            except TimeoutError:
                late.append(f"{method} {path}")
                continue
        finally:
            sock.close()
        assert_problem(answer.as_httpx(), 413, "payload_too_large")
        assert answer.headers.get("connection") == "close", (method, path, answer.headers)
    assert not late, f"no answer before the body was sent: {late}"


def test_a_chunked_json_body_is_refused_once_past_the_bound(live_stack: LiveStack) -> None:
    pid = live_stack.processes["api"].pid
    before = rss_bytes(pid)
    head = rawhttp.head(
        "POST", "/v1/auth/otp", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    answer = rawhttp.flood(
        live_stack.base_url, head + b"1\r\n[\r\n", chunk, CHUNKED_BYTES // 0x10000, b"1\r\n]\r\n0\r\n\r\n"
    )
    grown = rss_bytes(pid) - before
    if answer != "closed":
        assert isinstance(answer, rawhttp.RawResponse)
        assert_problem(answer.as_httpx(), 413, "payload_too_large")
    assert grown < RSS_GROWTH_BOUND, f"the API grew by {grown / 2**20:.0f} MiB reading one JSON body"
