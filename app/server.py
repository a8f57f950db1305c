"""How the API is served: uvicorn with httptools, each request's head, trailers and pace bounded.

uvicorn's httptools protocol reads a request's head (request line and headers) and a chunked body's
trailers whole, however long (one 200 MB header: RSS +370 MB; 195 MB of trailers: +180 MB), and waits
for a head or a body for ever (half a head trickled keeps its socket). The protocol here frames the bytes
itself as they arrive (`app.httpframing`) and feeds the parser one part at a time, so it knows the exact
size of every head, header line and trailer section wherever a read boundary falls, and refuses one the
moment it passes its bound, before the parser buffers it: 414 for the request line, 431 for the head, a
header line, the number of headers, or the trailers. A head must arrive whole within
`RETRACE_HEAD_TIMEOUT_S`, and a body may not go quiet for `RETRACE_BODY_IDLE_TIMEOUT_S` while it is read:
past either, 408 (when no answer has begun) and the connection is closed. An answer whose client stops
reading must make progress: while bytes wait to be sent (the transport's buffer full, or a finished
answer still queued when the keep-alive timeout comes), the client must acknowledge some of them in every
`RETRACE_SEND_TIMEOUT_S`, or the connection is reset and the task sending to it ends. Trailer fields are
read and dropped: a field the client sends after the body never becomes one of the request's headers.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from time import perf_counter
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app import spans, tcpstate
from app.httpframing import Event, HeadLimits, Refusal, RequestFraming
from app.main import create_app
from app.problems import PROBLEM_MEDIA_TYPE, ProblemBody
from app.runtime import Runtime
from app.settings import Settings


def raw_problem(refusal: Refusal) -> bytes:
    """A whole `Connection: close` response carrying `refusal` as a problem body, for the transport."""
    body = json.dumps(
        ProblemBody(
            type=f"https://retrace.example/problems/{refusal.code.replace('_', '-')}",
            title=HTTPStatus(refusal.status).phrase,
            status=refusal.status,
            detail=refusal.detail,
            code=refusal.code,
        ).model_dump(exclude_none=True),
        separators=(",", ":"),
    ).encode()
    status = HTTPStatus(refusal.status)
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
        "connection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


def head_limits(settings: Settings) -> HeadLimits:
    return HeadLimits(
        head_bytes=settings.max_header_bytes,
        request_line_bytes=settings.max_request_line_bytes,
        field_bytes=settings.max_header_field_bytes,
        fields=settings.max_header_count,
    )


# A client that does not read: it must acknowledge this much of what waits for it (or all of it, when
# less waits) in every send_timeout_s: a minimum rate of 16 KiB per 30 s by default.
SEND_PROGRESS_BYTES = 16 * 1024


def _timeout(what: str, seconds: float) -> Refusal:
    return Refusal(408, "request_timeout", f"the request {what} did not arrive within {seconds:g} s")


def bounded_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with the head, trailers and timeouts of `settings` enforced."""
    limits = head_limits(settings)
    head_timeout_s, body_idle_s = settings.head_timeout_s, settings.body_idle_timeout_s
    send_timeout_s = settings.send_timeout_s
    head_late = _timeout("head", head_timeout_s)
    body_late = _timeout("body", body_idle_s)

    class BoundedProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._framing = RequestFraming(limits)
            self._headers_complete = False
            self._head_timer: asyncio.TimerHandle | None = None
            self._body_timer: asyncio.TimerHandle | None = None
            self._send_timer: asyncio.TimerHandle | None = None
            self._acked: int | None = None  # the client's acknowledged bytes when the send watch began
            self._owed = 0  # what it must acknowledge before the watch's interval ends
            self._close_when_sent = False  # the keep-alive timeout came while an answer was still queued
            self._pending: Refusal | None = None  # for the next request, once the one in flight is answered

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # The first head is waited for from the moment the connection opens (later ones, from their
            # first byte: between requests, uvicorn's keep-alive timeout closes an idle connection).
            self._head_timer = self.loop.call_later(head_timeout_s, self._late, head_late)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_timers()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._pending is not None:
                return  # this connection ends after the answer in flight: nothing more is read
            framing, at = self._framing, 0
            while at < len(data) and not framing.discarding:
                end, event = framing.advance(data, at)
                if isinstance(event, Refusal):
                    self._refuse(event)
                    return
                if event is Event.HEAD_DONE:
                    self._headers_complete = False
                    self._stop_head_timer()
                super().data_received(data[at:end] if at or end < len(data) else data)
                if self.transport.is_closing():
                    return
                at = end
                if event is Event.HEAD_DONE and not self._start_body():
                    return
            self._arm_timers()

        def _start_body(self) -> bool:
            """Tell the framing how the body of the head just parsed is framed; False if it was refused."""
            if not self._headers_complete:
                # llhttp and the framing disagree on where the head ends: never guess.
                self._refuse(Refusal(400, "malformed_request", "the request head is not valid HTTP/1.1"))
                return False
            if self.parser.should_upgrade():
                self._framing.discard_rest()  # llhttp parses nothing after an upgrade (none is performed)
                return True
            encodings = b",".join(value for name, value in self.headers if name == b"transfer-encoding")
            lengths = [value for name, value in self.headers if name == b"content-length"]
            self._framing.start_body(
                content_length=int(lengths[0]) if lengths else 0,  # llhttp let at most one, all digits, by
                chunked=encodings.rsplit(b",", 1)[-1].strip().lower() == b"chunked",
                last_request=not self.parser.should_keep_alive(),
            )
            return True

        def on_message_begin(self) -> None:
            self._headers_complete = False
            self._close_when_sent = False  # a new request came: the connection lives on
            super().on_message_begin()

        def on_header(self, name: bytes, value: bytes) -> None:
            if self._headers_complete:
                return  # a trailer field: read within its bounds, never merged into the request's headers
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._headers_complete = True
            super().on_headers_complete()

        def _arm_timers(self) -> None:
            framing = self._framing
            if framing.head_started and self._head_timer is None:
                self._head_timer = self.loop.call_later(head_timeout_s, self._late, head_late)
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None
            if framing.in_body:
                self._body_timer = self.loop.call_later(body_idle_s, self._body_idle)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _cancel_timers(self) -> None:
            for timer in (self._head_timer, self._body_timer, self._send_timer):
                if timer is not None:
                    timer.cancel()
            self._head_timer = self._body_timer = self._send_timer = None

        def pause_writing(self) -> None:
            # The transport's buffer is full: the client is not keeping up. It must acknowledge something
            # in every send_timeout_s, or the answer (and the task waiting in drain() to send it) is given up.
            super().pause_writing()
            self._watch_sending()

        def timeout_keep_alive_handler(self) -> None:
            # A finished answer may still be queued for a client that does not read: closing now would
            # leave it to the kernel for minutes. Wait while the client takes it, reset if it stops.
            if self._unsent() and not self.transport.is_closing():
                self._close_when_sent = True
                self._watch_sending()
                return
            super().timeout_keep_alive_handler()

        def _unsent(self) -> int:
            sock = self.transport.get_extra_info("socket")
            queued = tcpstate.queued(sock) if sock is not None else 0
            return self.transport.get_write_buffer_size() + queued

        def _watch_sending(self) -> None:
            if self._send_timer is None:
                sock = self.transport.get_extra_info("socket")
                self._acked = tcpstate.bytes_acked(sock) if sock is not None else None
                self._owed = min(self._unsent(), SEND_PROGRESS_BYTES)
                self._send_timer = self.loop.call_later(send_timeout_s, self._send_check)

        def _send_check(self) -> None:
            self._send_timer = None
            if not self._unsent():
                if self._close_when_sent and not self.transport.is_closing():
                    self.transport.close()
                return
            sock = self.transport.get_extra_info("socket")
            before = self._acked
            now = tcpstate.bytes_acked(sock) if sock is not None else None
            if now is None or before is None or now - before >= self._owed:
                self._watch_sending()  # progress (or a kernel that cannot say): another interval
                return
            # Too little acknowledged in a whole interval (a receive window that only creeps open counts
            # as not reading): reset (close() would wait for the buffer to drain,
            # and the kernel would go on offering the bytes). connection_lost marks the cycle disconnected
            # and releases a send waiting in drain().
            tcpstate.drop_on_close(sock)
            self.transport.abort()

        def _body_idle(self) -> None:
            self._body_timer = None
            if self.flow.read_paused:
                # The server is not reading (the app has not taken what it holds): not the client's doing.
                self._body_timer = self.loop.call_later(body_idle_s, self._body_idle)
            else:
                self._late(body_late)

        def _late(self, refusal: Refusal) -> None:
            if refusal is head_late:
                self._head_timer = None
            if not self.transport.is_closing():
                self._refuse(refusal)

        def _refuse(self, refusal: Refusal) -> None:
            """Answer `refusal` unless an answer has begun on this connection, then close it."""
            self._cancel_timers()
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete and self._framing.in_head:
                # The refused head is the next request's: the one in flight (pipelined) is answered first.
                self._pending = refusal
                self.flow.pause_reading()
                return
            answering = cycle is not None and cycle.response_started and not cycle.response_complete
            if cycle is not None and not cycle.response_complete:
                # The app's request ends here: it reads a disconnect, and what it sends is dropped.
                cycle.disconnected = True
                cycle.message_event.set()
            if not answering:
                self.transport.write(raw_problem(refusal))
            self.transport.close()

        def on_response_complete(self) -> None:
            if self._pending is not None and not self.pipeline and not self.transport.is_closing():
                self.server_state.total_requests += 1
                self.transport.write(raw_problem(self._pending))
                self.transport.close()
                return
            super().on_response_complete()
            if self._unsent():
                # Still queued, to a client that may never read it (a closing transport would hold its
                # socket until the buffer drains): watched like a paused send.
                self._watch_sending()

    if settings.spans_path is None:
        return BoundedProtocol

    class TimedProtocol(BoundedProtocol):
        """Puts the span of the `data_received` call that completed a head in the request's scope."""

        def data_received(self, data: bytes) -> None:
            cycle, started = self.cycle, perf_counter()
            super().data_received(data)
            if self.cycle is not None and self.cycle is not cycle:
                self.cycle.scope[spans.RECEIVED] = (started, perf_counter())  # type: ignore[literal-required]

    return TimedProtocol


def run_api(runtime: Runtime, *, host: str, port: int, log_level: str, access_log: bool = True) -> None:
    """Serve the API on host:port until SIGINT/SIGTERM (uvicorn owns both signals)."""
    uvicorn.run(
        create_app(runtime=runtime),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=bounded_protocol(runtime.settings),
        ws="none",  # the API has no WebSocket route: an upgrade must not hand the socket to another parser
    )
