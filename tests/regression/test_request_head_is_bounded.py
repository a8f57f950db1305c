"""One 200 MB request header was read whole before anything refused it.

What broke: uvicorn's httptools protocol buffers a request's head (request line and headers) until it is
complete, with no limit; `GET /healthz` with a 200 MB header grew the API process from 117 to 489 MB RSS
and was answered minutes later. Any client could make the server hold as much memory as it liked.
Found by black-box probing (issue 13).

What fixed it: `retrace api` and `retrace serve` run uvicorn with a protocol that counts the head's
bytes as they arrive and answers 431 (then closes) past `RETRACE_MAX_HEADER_BYTES` (64 KiB) (`app/server.py`).

Locked reproduction, on `retrace api` over a real port (the protocol is the server's, not the app's):
an 8 MB header is refused (431, or the connection closed on us before we could send it all), the
API's RSS grows by less than 32 MB, and a request with a 16 KB header still works. Checked: on the code
before the fix the 8 MB head is read whole and answered 200 (this case fails).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice

HEADER_BYTES = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def api_process(lattice: WorkerLattice) -> Iterator[LiveStack]:
    """`retrace api` on this worker's planes; no worker process, so the bank's own worker is alone."""
    logs = lattice.plane.names.directory / "regression-api"
    with start_live_stack(
        lattice.plane.settings(), logs, with_worker=False, timeout_s=START_TIMEOUT_S
    ) as stack:
        yield stack


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def _send_huge_head(base_url: str) -> bytes:
    """Send an 8 MB header to /healthz; what the server answered (b"" if it closed without a word)."""
    where = urlsplit(base_url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: retrace.test\r\nX-Huge: ")
            chunk = b"a" * 65536
            for _ in range(HEADER_BYTES // len(chunk)):
                sock.sendall(chunk)
            sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished: the answer (if any) is still to be read
        try:
            return sock.recv(65536)
        except ConnectionResetError:
            return b""


def test_an_oversized_request_head_is_refused_without_reading_it_whole(api_process: LiveStack) -> None:
    api = api_process.processes["api"]
    before = _rss_kib(api.pid)
    answer = _send_huge_head(api_process.base_url)
    grown_mib = (_rss_kib(api.pid) - before) / 1024
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line in (b"", b"HTTP/1.1 431 Request Header Fields Too Large"), status_line
    assert grown_mib < 32, f"the API grew by {grown_mib:.0f} MiB reading one request head"
    with api_process.client() as client:
        ordinary = client.get("/healthz", headers={"X-Padding": "p" * 16_000})
    assert ordinary.status_code == 200
    assert httpx.get(f"{api_process.base_url}/healthz").json() == {"status": "ok"}
