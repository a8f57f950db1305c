"""Requests grown to a size, part by part, and how the server takes them: answered, refused, or closed,
and for a part far over its bound, whether the refusal came before the client finished sending.

Every part is grown from an operation's valid request (`tools.lattice.race.requests_for.Built`):
the whole head (a padding header), one header's value, the request line (a padding query parameter),
the number of headers, the trailers of a chunked body, a body sent with a Content-Length or chunked.
A JSON body is padded with trailing spaces, which leave it the same valid JSON.

`exactly(...)` sends a request in one write and reads its answer; `streamed(...)` sends one far over a
bound in pieces from a socket with a small send buffer (so the kernel cannot take it all at once), and
stops at the server's refusal or close. A server that reads the excess whole lets the client send it
all: that is the finding.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from tools.lattice.race import rawhttp
from tools.lattice.race.requests_for import Built

SMALL_SNDBUF = 16 * 1024
PIECE = 64 * 1024
CRLF = b"\r\n"


@dataclass(frozen=True)
class Grown:
    """A request as the bytes of its head, then its body's pieces (generated: far-over bodies are large)."""

    head: bytes
    body: Iterator[bytes] | None = None


def _filler(n: int) -> bytes:
    return b"a" * max(n, 0)


def _head_with(
    built: Built, extra: dict[str, str], *, chunked: bool = False, target: str | None = None
) -> bytes:
    with_extra = built.with_headers(**extra)
    if chunked:
        with_extra = with_extra.with_headers(**{"Transfer-Encoding": "chunked"})
        return rawhttp.head(with_extra.method, target or with_extra.target, dict(with_extra.headers))
    return with_extra.head(target=target)


def _whole(built: Built, head: bytes) -> Grown:
    return Grown(head, iter([built.body or b""]))


def head_of(built: Built, size: int) -> Grown:
    """The request with a padding header making its head (request line to blank line) `size` bytes."""
    base = len(_head_with(built, {"X-Pad": ""}))
    return _whole(built, _head_with(built, {"X-Pad": _filler(size - base).decode()}))


def header_of(built: Built, name: str, size: int) -> Grown:
    """The request with header `name`'s value grown so the head is `size` bytes."""
    value = dict(built.headers).get(name, "")
    base = len(_head_with(built, {name: value}))
    return _whole(built, _head_with(built, {name: value + _filler(size - base).decode()}))


def request_line_of(built: Built, size: int) -> Grown:
    """The request with a padding query parameter making its head `size` bytes."""
    pad_key = "pad" if not built.query else "&pad"
    joiner = "?" if not built.query else ""
    base_target = built.target + joiner + pad_key + "="
    base = len(built.head(target=base_target))
    return _whole(built, built.head(target=base_target + _filler(size - base).decode()))


def header_count_of(built: Built, size: int) -> Grown:
    """The request with as many one-letter headers as make its head `size` bytes (short ones padded)."""
    head = built.head()
    room = size - len(head)
    count, rest = divmod(room, 6)  # "a: b\r\n" is 6 bytes
    lines = [b"a: b"] * count
    if rest and lines:
        lines[-1] = b"a: b" + b"b" * rest
    grown = head[:-2] + b"".join(line + CRLF for line in lines) + CRLF
    return _whole(built, grown)


def trailers_of(built: Built, size: int) -> Grown:
    """The body sent chunked, followed by trailers of `size` bytes (a field line per 4 KB)."""
    head = _head_with(built, {}, chunked=True)
    body = built.body or b""
    chunk = (f"{len(body):x}".encode() + CRLF + body + CRLF) if body else b""

    def pieces() -> Iterator[bytes]:
        yield chunk + b"0" + CRLF
        left = size
        while left > 0:
            line = min(left, 4096)
            yield b"X-Trailer: " + _filler(line - 13) + CRLF if line >= 13 else _filler(line - 2) + CRLF
            left -= line
        yield CRLF

    return Grown(head, pieces())


def body_of(built: Built, size: int, *, chunked: bool = False, declared: int | None = None) -> Grown:
    """The valid body grown to `size` bytes (JSON: trailing spaces; bytes: more of them), sent with a
    Content-Length (`declared`, when it should lie) or chunked."""
    body = built.body or b""
    padding = b" " if built.headers.get("Content-Type", "").endswith("json") else b"x"

    def grown() -> Iterator[bytes]:
        yield body[:size]
        left = size - len(body)
        while left > 0:
            n = min(left, PIECE)
            yield padding * n
            left -= n

    if not chunked:
        head = built.head(content_length=size if declared is None else declared)
        return Grown(head, grown())

    def framed() -> Iterator[bytes]:
        for piece in grown():
            if piece:
                yield f"{len(piece):x}".encode() + CRLF + piece + CRLF
        yield b"0" + CRLF + CRLF

    return Grown(_head_with(built, {}, chunked=True), framed())


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the answer's status (None: no answer)
    closed: bool  # the server closed or reset the connection
    sent: int  # bytes of the request sent before the refusal, the close, or the end
    finished: bool  # the whole request was sent

    def shown(self) -> str:
        answer = str(self.status) if self.status is not None else "no answer"
        whole = "all of it" if self.finished else "not all"
        return f"{answer}{', closed' if self.closed else ''} after {self.sent} bytes sent ({whole})"


def exactly(base_url: str, grown: Grown, timeout_s: float = 30.0) -> Outcome:
    """Send the whole request in one write, then read the answer."""
    sock = rawhttp.connect(base_url, timeout_s)
    data = grown.head + b"".join(grown.body or ())
    try:
        if not rawhttp.send_all_or_closed(sock, data):
            return Outcome(_answer_if_any(sock), True, 0, False)
        try:
            return Outcome(rawhttp.read_response(sock, timeout_s).status, False, len(data), True)
        except rawhttp.Closed:
            return Outcome(None, True, len(data), True)
    finally:
        sock.close()


def streamed(base_url: str, grown: Grown, refusals: set[int], timeout_s: float = 30.0) -> Outcome:
    """Send the request piece by piece; stop at a refusal (a status in `refusals`) or a close."""
    sock = socket.create_connection(_address(base_url), timeout=timeout_s)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_SNDBUF)
    sent, status = 0, None
    try:
        for piece in _pieces(grown):
            if _readable(sock):
                status = _answer_if_any(sock)
                if status is None:
                    return Outcome(None, True, sent, False)
                if status in refusals:
                    return Outcome(status, False, sent, False)
            try:
                sock.sendall(piece)
            except (ConnectionResetError, BrokenPipeError):
                return Outcome(status or _answer_if_any(sock), True, sent, False)
            except TimeoutError:
                # The server neither reads nor answers: as good as not refused.
                return Outcome(status or _answer_if_any(sock), False, sent, False)
            sent += len(piece)
        if status is None:
            try:
                status = rawhttp.read_response(sock, timeout_s).status
            except (rawhttp.Closed, TimeoutError):
                return Outcome(None, True, sent, True)
        return Outcome(status, False, sent, True)
    finally:
        rawhttp.reset(sock)


def _pieces(grown: Grown) -> Iterator[bytes]:
    for start in range(0, len(grown.head), PIECE):
        yield grown.head[start : start + PIECE]
    for piece in grown.body or ():
        for start in range(0, len(piece), PIECE):
            yield piece[start : start + PIECE]


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _readable(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


def _answer_if_any(sock: socket.socket) -> int | None:
    """The status of an answer already sent (None when the server closed without one)."""
    with contextlib.suppress(rawhttp.Closed, TimeoutError, OSError, ValueError, IndexError):
        return rawhttp.read_response(sock, 2.0).status
    return None
