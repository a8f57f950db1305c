"""Requests grown to a size, part by part, and how the server takes them: answered, refused, or closed,
and for a part far over its bound, whether the refusal came before the client finished sending.

Every part is grown from an operation's valid request (`tools.lattice.engines.race.requests_for.Built`):
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

from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.requests_for import Built

SMALL_SNDBUF = 16 * 1024
PIECE = 64 * 1024
CRLF = b"\r\n"


@dataclass(frozen=True)
class Grown:
    """A request as the bytes of its head, then its body's pieces (generated: far-over bodies are large)."""

    head: bytes
    body: Iterator[bytes] | None = None


@dataclass(frozen=True)
class HeadBounds:
    """The server's bounds on a head (and a trailer section), as the app's settings give them; a grown
    request stays within every bound but the one it grows past, so a refusal names that one."""

    head: int  # request line and header lines, every CRLF counted (the blank line's too)
    request_line: int  # without its CRLF
    field: int  # one header line, name to value, without its CRLF
    count: int  # header lines


def _filler(n: int) -> str:
    return "a" * max(n, 0)


def _whole(built: Built, head: bytes) -> Grown:
    return Grown(head, iter([built.body or b""]))


def _with_fields(head: bytes, fields: list[bytes]) -> bytes:
    """`head` (ending in its blank line) with more header lines before the blank line."""
    return head[:-2] + b"".join(line + CRLF for line in fields) + CRLF


def _padding_fields(room: int, bounds: HeadBounds, free: int) -> list[bytes]:
    """Header lines taking exactly `room` bytes with their CRLFs, as few as the field bound allows and
    at most `free` of them (longer lines if need be: the caller's bound is passed, not this one)."""
    if room <= 0:
        return []
    count = max(1, min(free, -(-room // (bounds.field + 2))))
    base, extra = divmod(room, count)
    fields = []
    for i in range(count):
        name = f"P{i}:".encode()
        share = base + (1 if i < extra else 0)  # the line's bytes with its CRLF
        fields.append(name + b"a" * (share - 2 - len(name)))
    return fields


def _built_head(built: Built, *, chunked: bool = False, target: str | None = None) -> bytes:
    if chunked:
        headers = {**built.headers, "Transfer-Encoding": "chunked"}
        return rawhttp.head(built.method, target or built.target, headers)
    return built.head(target=target)


def _lines(head: bytes) -> int:
    return head.count(CRLF) - 2  # header lines: not the request line's CRLF nor the blank line


def head_of(built: Built, size: int, bounds: HeadBounds) -> Grown:
    """The request with padding header lines making its head `size` bytes, every CRLF counted."""
    head = built.head()
    fields = _padding_fields(size - len(head), bounds, bounds.count - _lines(head))
    return _whole(built, _with_fields(head, fields))


def header_of(built: Built, name: str, size: int, bounds: HeadBounds) -> Grown:
    """The request with header `name`'s line (name, colon, value; no CRLF) grown to `size` bytes."""
    value = dict(built.headers).get(name, "")
    grown = built.with_headers(**{name: value + _filler(size - len(f"{name}: {value}"))})
    return _whole(built, grown.head())


def request_line_of(built: Built, size: int, bounds: HeadBounds) -> Grown:
    """The request with a padding query parameter making its request line (no CRLF) `size` bytes."""
    target = built.target + ("&" if built.query else "?") + "pad="
    line = len(f"{built.method} {target} HTTP/1.1")
    return _whole(built, built.head(target=target + _filler(size - line)))


def header_count_of(built: Built, count: int, bounds: HeadBounds) -> Grown:
    """The request with one-letter header lines making `count` header lines in all (generated as sent:
    far past the bound they are millions)."""
    head = built.head()
    extra = count - _lines(head)

    def rest() -> Iterator[bytes]:
        left = extra
        while left > 0:
            batch = min(left, 4096)
            yield b"a: b\r\n" * batch
            left -= batch
        yield CRLF + (built.body or b"")

    return Grown(head[:-2], rest())


def _chunked(built: Built, trailer_lines: list[bytes]) -> Grown:
    """The body sent as one chunk (none for no body), then the last chunk and these trailer lines."""
    body = built.body or b""
    chunk = (f"{len(body):x}".encode() + CRLF + body + CRLF) if body else b""

    def pieces() -> Iterator[bytes]:
        yield chunk + b"0" + CRLF
        batch: list[bytes] = []
        for line in trailer_lines:
            batch.append(line + CRLF)
            if len(batch) >= 64:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch) + CRLF

    return Grown(_built_head(built, chunked=True), pieces())


def trailers_of(built: Built, size: int, bounds: HeadBounds) -> Grown:
    """The body chunked, then a trailer section of `size` bytes, every CRLF counted (the blank line's
    too), in lines within the field bound."""
    return _chunked(built, _padding_fields(size - 2, bounds, bounds.count))  # 2: the blank line


def trailer_count_of(built: Built, count: int, bounds: HeadBounds) -> Grown:
    """The body chunked, then `count` one-letter trailer lines."""
    return _chunked(built, [b"a: b"] * count)


def trailer_field_of(built: Built, size: int, bounds: HeadBounds) -> Grown:
    """The body chunked, then one trailer line (no CRLF) of `size` bytes."""
    return _chunked(built, [b"X-Trailer: " + _filler(size - 11).encode()])


def body_of(built: Built, size: int, *, chunked: bool = False) -> Grown:
    """The valid body grown to `size` bytes (JSON: trailing spaces; bytes: more of them), sent with its
    Content-Length or chunked."""
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
        return Grown(built.head(content_length=size), grown())

    def framed() -> Iterator[bytes]:
        for piece in grown():
            if piece:
                yield f"{len(piece):x}".encode() + CRLF + piece + CRLF
        yield b"0" + CRLF + CRLF

    return Grown(_built_head(built, chunked=True), framed())


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
    sock = rawhttp.connect(base_url, timeout_s, sndbuf=SMALL_SNDBUF)
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


def _readable(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


def _answer_if_any(sock: socket.socket) -> int | None:
    """The status of an answer already sent (None when the server closed without one)."""
    with contextlib.suppress(rawhttp.Closed, TimeoutError, OSError, ValueError, IndexError):
        return rawhttp.read_response(sock, 2.0).status
    return None
