"""A chunked body's trailers were read whole, however long, and taken as request headers.

What broke: the bound on a request's head (`RETRACE_MAX_HEADER_BYTES`) counted bytes only until the
headers were complete; the trailer section after a chunked body's last chunk is parsed like headers
(llhttp hands each field to httptools, which buffers it whole, and uvicorn appended each to the request's
header list). 195 MB of trailers sent to the API, with no sign-in, grew it from 104 to 285 MB RSS. And
since a trailer landed in the header list the app reads after the body, a trailer `Authorization` signed
a request in that carried no such header. Found by grey-box probing (issue 26, defect 3).

What fixed it: the server frames the byte stream itself (`app/httpframing.py`): a trailer section is
bounded like a head (431 `trailers_too_large` past `RETRACE_MAX_HEADER_BYTES`, refused before the parser
buffers it), and trailer fields are dropped, never merged into the headers (`app/server.py`).

Locked reproduction, on `retrace api` over a real port: 32 MB of trailers after a chunked JSON body to
`POST /v1/auth/otp` are refused (431, or the connection closed on us mid-send) with the API's RSS growing
by less than 16 MB; a chunked `POST /v1/marks` whose only credential is a trailer answers 401. Checked:
on the code before the fix the trailers are read whole and answered 422, and the trailer-signed mark is
created (201): both tests fail.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.integration.flows import assert_problem, unique_email
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.observe import rss_bytes
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import sign_in

pytestmark = pytest.mark.live

TRAILER_BYTES = 32 * 1024 * 1024
RSS_GROWTH_BOUND = 16 * 1024 * 1024


def _chunked(path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The head and the one data chunk of a chunked request, up to (and with) its last-chunk line."""
    head = rawhttp.head("POST", path, {**headers, "Transfer-Encoding": "chunked"})
    return head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n"


def test_trailers_past_the_head_bound_are_refused_without_being_read(live_stack: LiveStack) -> None:
    pid = live_stack.processes["api"].pid
    before = rss_bytes(pid)
    line = b"X-Trailer: " + b"t" * 8000 + b"\r\n"
    request = _chunked("/v1/auth/otp", {"Content-Type": "application/json"}, b"{}")
    answer = rawhttp.flood(live_stack.base_url, request, line, TRAILER_BYTES // len(line), b"\r\n")
    grown = rss_bytes(pid) - before
    if answer != "closed":
        assert isinstance(answer, rawhttp.RawResponse)
        assert_problem(answer.as_httpx(), 431, "trailers_too_large")
    assert grown < RSS_GROWTH_BOUND, f"the API grew by {grown / 2**20:.0f} MiB reading one trailer section"
    with live_stack.client() as client:
        assert client.get("/healthz").status_code == 200


def test_a_trailer_is_never_taken_as_a_header(
    live_stack: LiveStack, live: httpx.Client, lattice: WorkerLattice
) -> None:
    person = sign_in(live, lattice.mailbox, unique_email("trailer"))
    sock = rawhttp.connect(live_stack.base_url)
    try:
        body = json.dumps({"note": "x"}).encode()
        request = _chunked("/v1/marks", {"Content-Type": "application/json"}, body)
        sock.sendall(request + f"Authorization: {person.headers['Authorization']}\r\n\r\n".encode())
        answer = rawhttp.read_response(sock)
    finally:
        sock.close()
    assert answer.status == 401, f"a trailer signed the request in: {answer.status} {answer.body[:200]!r}"
