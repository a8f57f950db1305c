"""HTTP/1.1 over a bare socket, for what httpx cannot express: a body that stops after 10 of its
100 declared bytes, headers sent one line at a time, a client that vanishes mid-upload, a header of
megabytes, and a request whose headers alone must be answered."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def as_httpx(self) -> httpx.Response:
        """The same answer as httpx would have given it (for `assert_problem` and the like)."""
        return httpx.Response(self.status, headers=self.headers, content=self.body)


class Closed(Exception):
    """The server closed (or reset) the connection without a complete answer."""


def connect(
    base_url: str, timeout_s: float = 10.0, *, rcvbuf: int | None = None, sndbuf: int | None = None
) -> socket.socket:
    """A connected TCP socket; `rcvbuf`/`sndbuf` are set before connecting, so the window is that small
    from the start (a reader that barely reads, a writer the kernel cannot buffer far ahead of)."""
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    for option, size in ((socket.SO_RCVBUF, rcvbuf), (socket.SO_SNDBUF, sndbuf)):
        if size is not None:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout_s)
    try:
        sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    except OSError:
        sock.close()
        raise
    return sock


def head(method: str, path: str, headers: Mapping[str, str], host: str = "race.test") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket, timeout_s: float = 10.0) -> RawResponse:
    """One response (status line, headers, a Content-Length body); `Closed` when the server hung up."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock, deadline)
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += _recv(sock, deadline)
    return RawResponse(int(status_line.split()[1]), headers, rest[:length])


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no complete answer before the deadline")
    sock.settimeout(remaining)
    try:
        chunk = sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise Closed(str(exc)) from None
    if not chunk:
        raise Closed("the server closed the connection")
    return chunk


def reset(sock: socket.socket) -> None:
    """Close abruptly (RST, not FIN), as a client that crashed or lost its network would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def stalled_upload(
    base_url: str, path: str, auth: Mapping[str, str], *, declared: int, sent: int
) -> socket.socket:
    """A PUT declaring `declared` body bytes and sending only `sent` of them; the socket is left open."""
    sock = connect(base_url)
    headers = {**auth, "Content-Type": "application/octet-stream", "Content-Length": str(declared)}
    sock.sendall(head("PUT", path, headers) + b"x" * sent)
    return sock


def send_all_or_closed(sock: socket.socket, data: bytes) -> bool:
    """Send `data`; False when the server hung up before taking it all."""
    try:
        sock.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        return False
    return True


def huge_header_request(
    base_url: str, path: str, header_bytes: int, timeout_s: float = 30.0
) -> RawResponse | str:
    """GET with one header of `header_bytes` bytes: the answer, or "closed" when the server hung up."""
    sock = connect(base_url, timeout_s)
    try:
        request = head("GET", path, {"X-Huge": "a" * header_bytes})
        if not send_all_or_closed(sock, request):
            return "closed"
        try:
            return read_response(sock, timeout_s)
        except Closed:
            return "closed"
    finally:
        sock.close()


def flood(
    base_url: str, first: bytes, filler: bytes, times: int, last: bytes, timeout_s: float = 60.0
) -> RawResponse | str:
    """Send `first`, `filler` `times` over and `last`, stopping once the server hangs up: its answer,
    or "closed" when it closed (or reset) the connection without one we could read."""
    sock = connect(base_url, timeout_s)
    try:
        sent = send_all_or_closed(sock, first)
        for _ in range(times):
            sent = sent and send_all_or_closed(sock, filler)
        if sent:
            send_all_or_closed(sock, last)
        try:
            return read_response(sock, timeout_s / 2)
        except Closed:
            return "closed"
    finally:
        sock.close()
