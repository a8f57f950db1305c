"""Holding a request in flight on purpose, over raw sockets: a body that stops one byte short of its
Content-Length until the caller says so, and a response read a few bytes at a time through a small
receive window. What happens meanwhile (a revocation, a deletion) then happens *during* the request,
every time, not when a race happens to line up."""

from __future__ import annotations

import time

from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.stalls import SMALL_RCVBUF


class HeldBody:
    """A request whose head and all of its body but the last byte are sent; `finish` sends the rest
    and reads the answer."""

    def __init__(self, base_url: str, head: bytes, body: bytes) -> None:
        if not body:
            raise ValueError("a held body needs at least one byte")
        self.sock = rawhttp.connect(base_url)
        self.last = body[-1:]
        self.sock.sendall(head + body[:-1])

    def finish(self, timeout_s: float = 30.0) -> rawhttp.RawResponse:
        try:
            self.sock.sendall(self.last)
            return rawhttp.read_response(self.sock, timeout_s)
        finally:
            self.sock.close()


class SlowRead:
    """A request whose answer is read through a small window: `head()` returns once the status line and
    headers are in, `rest()` reads the body to its Content-Length (or to the server's hang-up)."""

    def __init__(self, base_url: str, request: bytes) -> None:
        self.sock = rawhttp.connect(base_url, 30.0, rcvbuf=SMALL_RCVBUF)
        self.sock.sendall(request)
        self.buffer = b""
        self.status = 0
        self.headers: dict[str, str] = {}

    def head(self, timeout_s: float = 30.0) -> int:
        deadline = time.monotonic() + timeout_s
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv(deadline, 512)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        for line in lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.status = int(status_line.split()[1])
        return self.status

    def rest(self, timeout_s: float = 60.0) -> bytes:
        """The body; shorter than its Content-Length when the server hung up early."""
        deadline = time.monotonic() + timeout_s
        length = int(self.headers.get("content-length", "0"))
        try:
            while len(self.buffer) < length:
                self.buffer += self._recv(deadline, 16384)
        except rawhttp.Closed:
            pass
        finally:
            self.sock.close()
        return self.buffer[:length]

    def _recv(self, deadline: float, size: int) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete answer before the deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(size)
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise rawhttp.Closed(str(exc)) from None
        if not chunk:
            raise rawhttp.Closed("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()
