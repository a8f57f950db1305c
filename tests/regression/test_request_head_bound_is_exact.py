"""The bound on a request head was not exact: heads of 70-100 KB sent in one write were served.

What broke: the server counted a head's bytes read by read, but reset the count when the headers were
complete, before checking the read that completed them; so a head that arrived whole in one read was
never counted, and one split across reads was judged by all but its last read. With the 64 KiB bound
(`RETRACE_MAX_HEADER_BYTES`) heads of 70-100 KB in one write were answered 200. Found by grey-box
probing (issue 26, defect 10).

What fixed it: the server frames the byte stream itself (`app/httpframing.py`) and feeds the parser one
part at a time, so a head's size is its own bytes (request line, headers, every CRLF) wherever the
reads split it, checked before the parser sees the excess (`app/server.py`).

Locked reproduction, on `retrace api` over a real port: heads of one byte over the bound, 70 KB and
100 KB, each sent in one write and also split in two, are answered 431; a head of exactly the bound is
served. Checked: on the code before the fix the heads over the bound sent in one write are answered 200
(this case fails).
"""

from __future__ import annotations

import pytest

from tests.integration.flows import assert_problem
from tools.lattice.engines.race import rawhttp
from tools.lattice.live.stack import LiveStack

pytestmark = pytest.mark.live


def _head_of(size: int) -> bytes:
    """`GET /healthz` with a head of exactly `size` bytes, every header line well within its own bound."""
    head = b"GET /healthz HTTP/1.1\r\nHost: bank.test\r\n"
    line = b"X-Padding: " + b"p" * 8000 + b"\r\n"
    while size - len(head) - 2 > 2 * len(line):
        head += line
    rest = size - len(head) - 2
    first = rest // 2
    head += b"X-Rest-1: " + b"r" * (first - 12) + b"\r\n"
    head += b"X-Rest-2: " + b"r" * (rest - first - 12) + b"\r\n"
    return head + b"\r\n"


def _answer(base_url: str, head: bytes, split: int | None) -> rawhttp.RawResponse | str:
    sock = rawhttp.connect(base_url)
    try:
        parts = [head] if split is None else [head[:split], head[split:]]
        for part in parts:
            if not rawhttp.send_all_or_closed(sock, part):
                break
        try:
            return rawhttp.read_response(sock)
        except rawhttp.Closed:
            return "closed"
    finally:
        sock.close()


@pytest.mark.parametrize("over", [1, 70_000 - 65_536, 100_000 - 65_536])
@pytest.mark.parametrize("split", [None, 100, -1], ids=["one write", "split early", "split at the end"])
def test_a_head_over_the_bound_is_refused_however_it_arrives(
    live_stack: LiveStack, over: int, split: int | None
) -> None:
    head = _head_of(live_stack.settings.max_header_bytes + over)
    answer = _answer(live_stack.base_url, head, split)
    assert isinstance(answer, rawhttp.RawResponse), f"closed without an answer ({len(head)} bytes)"
    assert_problem(answer.as_httpx(), 431, "header_too_large")


def test_a_head_of_exactly_the_bound_is_served(live_stack: LiveStack) -> None:
    head = _head_of(live_stack.settings.max_header_bytes)
    assert len(head) == live_stack.settings.max_header_bytes
    answer = _answer(live_stack.base_url, head, None)
    assert isinstance(answer, rawhttp.RawResponse), answer
    assert answer.status == 200, answer
