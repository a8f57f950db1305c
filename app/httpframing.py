"""Where each part of an HTTP/1.1 request stream begins and ends, counted as the bytes arrive.

The server's parser (llhttp, through httptools) says when a head is complete but not where in a read it
ended, and it buffers a header or trailer line whole before anyone sees it. So the bytes are framed here
first, with llhttp's own strict rules (CRLF line ends, no folded lines, hex chunk sizes): the server feeds
the parser one part at a time and knows, wherever a read boundary falls, how many bytes each head, header
line and trailer section holds, refusing one the moment its bytes pass a bound, before they reach the
parser. Nothing here buffers: each part is a few counters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

_CR, _LF = 13, 10


@dataclass(frozen=True)
class HeadLimits:
    head_bytes: int  # request line and headers (or a trailer section), every CRLF included
    request_line_bytes: int  # without its CRLF
    field_bytes: int  # one header or trailer line, without its CRLF
    fields: int  # header lines in a head, or trailer lines in a trailer section


@dataclass(frozen=True)
class Refusal:
    """What the server answers (then closes) when the request passed a bound or broke the framing."""

    status: int
    code: str
    detail: str


class Event(enum.Enum):
    MORE = "more"  # the bytes up to `end` belong to the current part; it goes on after them
    HEAD_DONE = "head done"  # the head ended at `end`: say how its body is framed (`start_body`)


class _Section:
    """A head (a request line, then header lines) or a trailer section (lines only), to its empty line."""

    def __init__(self, limits: HeadLimits, *, head: bool) -> None:
        self.limits, self.head = limits, head
        self.total = 0  # bytes of the section so far
        self.line = 0  # bytes of the current line so far, its CR and LF included
        self.ended_cr = False  # the last byte seen was a CR (which may begin a line's CRLF)
        self.fields = 0
        self.awaiting_request_line = head  # llhttp skips empty lines before a request line

    def scan(self, data: bytes, start: int) -> tuple[int, bool | Refusal]:
        """Scan `data[start:]`: (where the section ended, True), (len(data), False), or a refusal."""
        i, n = start, len(data)
        while i < n:
            newline = data.find(b"\n", i)
            end = n if newline < 0 else newline + 1
            self.total += end - i
            self.line += end - i
            if self.total > self.limits.head_bytes:
                return end, self._too_long()
            if newline < 0:
                self.ended_cr = data[n - 1] == _CR
                return n, self._line_refusal(self.line - self.ended_cr) or False
            cr = data[newline - 1] == _CR if newline > i else self.ended_cr
            content, self.line, self.ended_cr = self.line - 1 - cr, 0, False
            if refusal := self._line_refusal(content):
                return end, refusal
            if content == 0 and not self.awaiting_request_line:
                return end, True
            if content and self.awaiting_request_line:
                self.awaiting_request_line = False
            elif content:
                self.fields += 1
                if self.fields > self.limits.fields:
                    return end, self._too_many()
            i = end
        return n, False

    def _line_refusal(self, content: int) -> Refusal | None:
        if self.awaiting_request_line:
            if content > self.limits.request_line_bytes:
                return Refusal(
                    414, "uri_too_long", f"the request line exceeds {self.limits.request_line_bytes} bytes"
                )
        elif content > self.limits.field_bytes:
            what = "header" if self.head else "trailer"
            return Refusal(
                431, f"{what}_field_too_large", f"a {what} line exceeds {self.limits.field_bytes} bytes"
            )
        return None

    def _too_long(self) -> Refusal:
        if self.head:
            return Refusal(
                431, "header_too_large", f"the request line and headers exceed {self.limits.head_bytes} bytes"
            )
        detail = f"the trailer section exceeds {self.limits.head_bytes} bytes"
        return Refusal(431, "trailers_too_large", detail)

    def _too_many(self) -> Refusal:
        what = "header" if self.head else "trailer"
        return Refusal(431, f"too_many_{what}s", f"more than {self.limits.fields} {what} lines")


class _State(enum.Enum):
    HEAD = "head"
    FIXED = "fixed-length body"
    CHUNK_LINE = "chunk size line"
    CHUNK_DATA = "chunk data"
    CHUNK_END = "CRLF after chunk data"
    TRAILERS = "trailer section"
    DISCARD = "after the last request"  # what llhttp ignores: after `Connection: close`, or an upgrade


_KEPT = 32  # bytes of a chunk line kept to read its size from: llhttp refuses sizes of over 16 hex digits
_MALFORMED_CHUNK = Refusal(400, "malformed_chunk", "a chunk of the body is not framed as HTTP/1.1 requires")


class RequestFraming:
    """The framing of one connection's requests, one after another (keep-alive, pipelined)."""

    def __init__(self, limits: HeadLimits) -> None:
        self.limits = limits
        self._state = _State.HEAD
        self._section = _Section(limits, head=True)
        self._left = 0  # bytes of body (or of a chunk, or of its CRLF) still to come
        self._last_request = False
        self._chunk_line = 0
        self._chunk_size = b""

    @property
    def in_head(self) -> bool:
        return self._state is _State.HEAD

    @property
    def head_started(self) -> bool:
        return self._state is _State.HEAD and self._section.total > 0

    @property
    def in_body(self) -> bool:
        return self._state not in (_State.HEAD, _State.DISCARD)

    @property
    def discarding(self) -> bool:
        return self._state is _State.DISCARD

    def start_body(self, *, content_length: int, chunked: bool, last_request: bool) -> None:
        """After HEAD_DONE: how the body is framed, and whether another request may follow this one."""
        self._last_request = last_request
        if chunked:
            self._enter_chunk_line()
        elif content_length > 0:
            self._state, self._left = _State.FIXED, content_length
        else:
            self._message_done()

    def discard_rest(self) -> None:
        """The parser reads nothing more of this connection (an upgrade it will not perform)."""
        self._state = _State.DISCARD

    def advance(self, data: bytes, start: int) -> tuple[int, Event | Refusal]:
        """The end of the next part of `data` from `start` (a piece to feed the parser whole), and why."""
        state = self._state
        if state is _State.HEAD:
            end, result = self._section.scan(data, start)
            if isinstance(result, Refusal):
                return end, result
            return end, Event.HEAD_DONE if result else Event.MORE
        if state is _State.DISCARD:
            return len(data), Event.MORE
        if state in (_State.FIXED, _State.CHUNK_DATA, _State.CHUNK_END):
            end = min(len(data), start + self._left)
            self._left -= end - start
            if self._left == 0:
                if state is _State.FIXED:
                    self._message_done()
                elif state is _State.CHUNK_DATA:
                    self._state, self._left = _State.CHUNK_END, 2
                else:
                    self._enter_chunk_line()
            return end, Event.MORE
        if state is _State.CHUNK_LINE:
            return self._scan_chunk_line(data, start)
        end, result = self._section.scan(data, start)  # the trailer section
        if isinstance(result, Refusal):
            return end, result
        if result:
            self._message_done()
        return end, Event.MORE

    def _scan_chunk_line(self, data: bytes, start: int) -> tuple[int, Event | Refusal]:
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline + 1
        # Only the size (before any `;extension`) is kept, and only while it is a plausible one.
        if len(self._chunk_size) < _KEPT:
            self._chunk_size += data[start : min(end, start + _KEPT - len(self._chunk_size))]
        self._chunk_line += end - start
        if self._chunk_line > self.limits.field_bytes + 2:
            return end, _MALFORMED_CHUNK
        if newline < 0:
            return end, Event.MORE
        digits = self._chunk_size.split(b";", 1)[0].split(b"\r", 1)[0]
        try:
            size = int(digits, 16) if digits.isalnum() and len(digits) < _KEPT else -1
        except ValueError:
            size = -1
        if size < 0:
            return end, _MALFORMED_CHUNK
        if size == 0:
            self._state, self._section = _State.TRAILERS, _Section(self.limits, head=False)
        else:
            self._state, self._left = _State.CHUNK_DATA, size
        return end, Event.MORE

    def _enter_chunk_line(self) -> None:
        self._state, self._chunk_line, self._chunk_size = _State.CHUNK_LINE, 0, b""

    def _message_done(self) -> None:
        if self._last_request:
            self._state = _State.DISCARD
        else:
            self._state, self._section = _State.HEAD, _Section(self.limits, head=True)
