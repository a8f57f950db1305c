"""Nothing timed out a request head or body: half a head trickled for 120 s kept its socket.

What broke: uvicorn's keep-alive timeout only runs between requests; once a head's first byte (or the
connection itself) arrived, the server waited for the rest for ever, and for a body likewise. A client
trickling heads (slowloris) or stalling bodies could hold as many sockets, and as much of the server's
attention, as it liked. Found by grey-box probing (issue 26, defect 11).

What fixed it: the server's protocol (`app/server.py`) times a head from its first byte (a connection's
first head from the connection opening), `RETRACE_HEAD_TIMEOUT_S` (10 s), and a body's silences while it
is read, `RETRACE_BODY_IDLE_TIMEOUT_S` (30 s): past either it answers 408 `request_timeout` (when no
answer has begun) and closes the connection.

Locked reproduction, on `retrace api` with both timeouts at 2 s: a head trickled a byte every 0.5 s, a
connection that sends nothing, and a `POST /v1/auth/otp` that declares 100 body bytes and sends 10 are
each answered 408 and closed within the timeout and a margin, while a head trickled whole within it is
served. Checked: on the code before the fix all three sockets are still open when the margin runs out
(this case fails).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.integration.flows import assert_problem
from tools.lattice.engines.race import rawhttp
from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice

pytestmark = pytest.mark.live

TIMEOUT_S = 2.0
MARGIN_S = 8.0  # a loaded machine answers late; a socket still open after this was never timed out


@pytest.fixture(scope="module")
def impatient_api(lattice: WorkerLattice) -> Iterator[LiveStack]:
    settings = lattice.plane.settings(head_timeout_s=TIMEOUT_S, body_idle_timeout_s=TIMEOUT_S)
    logs = lattice.plane.names.directory / "regression-timeouts"
    with start_live_stack(settings, logs, with_worker=False, timeout_s=START_TIMEOUT_S) as stack:
        yield stack


def _trickle_until_answered(sock: socket.socket, data: bytes, every_s: float) -> tuple[bytes, float]:
    """Send `data` a byte every `every_s` until the server answers or hangs up: (its answer, seconds).

    b"" when it hung up without a word, or when the margin ran out with the socket still open."""
    started = time.monotonic()
    sock.settimeout(every_s)
    for byte in data:
        if not rawhttp.send_all_or_closed(sock, bytes([byte])):
            break
        try:
            return sock.recv(65536), time.monotonic() - started
        except TimeoutError:
            if time.monotonic() - started > TIMEOUT_S + MARGIN_S:
                break
        except ConnectionResetError:
            break
    return b"", time.monotonic() - started


def _answer_within(sock: socket.socket, seconds: float) -> rawhttp.RawResponse | str:
    try:
        return rawhttp.read_response(sock, timeout_s=seconds)
    except rawhttp.Closed:
        return "closed"
    except TimeoutError:
        return "still open"


def _assert_408(answer: rawhttp.RawResponse | str) -> None:
    assert isinstance(answer, rawhttp.RawResponse), f"the connection was {answer} past the timeout"
    assert_problem(answer.as_httpx(), 408, "request_timeout")


def test_a_trickled_head_is_answered_408_and_closed(impatient_api: LiveStack) -> None:
    sock = rawhttp.connect(impatient_api.base_url)
    try:
        head = rawhttp.head("GET", "/healthz", {"X-Slow": "s" * 200})
        answer, took = _trickle_until_answered(sock, head, every_s=0.5)
        assert answer.startswith(b"HTTP/1.1 408 "), f"after {took:.1f}s: {answer[:100]!r}"
        assert took < TIMEOUT_S + MARGIN_S
    finally:
        sock.close()


def test_a_silent_connection_is_answered_408_and_closed(impatient_api: LiveStack) -> None:
    sock = rawhttp.connect(impatient_api.base_url)
    try:
        _assert_408(_answer_within(sock, TIMEOUT_S + MARGIN_S))
    finally:
        sock.close()


def test_a_stalled_body_is_answered_408_and_closed(impatient_api: LiveStack) -> None:
    sock = rawhttp.connect(impatient_api.base_url)
    try:
        headers = {"Content-Type": "application/json", "Content-Length": "100"}
        sock.sendall(rawhttp.head("POST", "/v1/auth/otp", headers) + b'{"email": ')
        _assert_408(_answer_within(sock, TIMEOUT_S + MARGIN_S))
    finally:
        sock.close()


def test_a_head_trickled_within_the_timeout_is_served(impatient_api: LiveStack) -> None:
    sock = rawhttp.connect(impatient_api.base_url)
    try:
        head = rawhttp.head("GET", "/healthz", {"Connection": "close"})
        for start in range(0, len(head), 8):
            sock.sendall(head[start : start + 8])
            time.sleep(TIMEOUT_S / 2 / (len(head) / 8))
        answer = rawhttp.read_response(sock)
    finally:
        sock.close()
    assert answer.status == 200, answer
