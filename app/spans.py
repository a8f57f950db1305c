"""Per-request spans, off unless `RETRACE_SPANS_PATH` names a file: where a request's time goes in the API.

When on, every HTTP request appends one JSON line to that file: its route, and milliseconds for
- `framing`: the protocol's `data_received` that carried the head (app.server's framing and llhttp);
- `loop_wait`: from there until the app is called (the task waiting for the event loop);
- `dispatch`: middleware, routing, parameter validation and dependencies, until the handler's work starts;
- `slot_hop`: waiting for a request slot and the thread pool (`Runtime.in_db_thread`);
- `auth`, `query`, `build`, `close`: the blocking part (token lookup, the route's statements, its models,
  ending the session), measured in the worker thread;
- `hop_back`: from the thread's end until the handler runs again in the loop;
- `serialise`: from the handler's result to the response's first message (validation and JSON);
- `send`: handing the response to the transport.
Only names are recorded here; what a span covers is decided where `span()` is called. When off, `span()`
costs one context-variable read, and no middleware or protocol hook is installed.
"""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from pathlib import Path
from time import perf_counter
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The protocol puts (start, end) of the `data_received` call that completed a head into the scope.
RECEIVED = "retrace.spans.received"

_current: ContextVar[dict[str, float] | None] = ContextVar("retrace_spans", default=None)


class span:
    """Adds the block's duration (ms) to the current request's span `name`; nothing when spans are off."""

    __slots__ = ("name", "spans", "started")

    def __init__(self, name: str) -> None:
        self.name = name
        self.spans = _current.get()

    def __enter__(self) -> None:
        if self.spans is not None:
            self.started = perf_counter()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.spans is not None:
            self.spans[self.name] = self.spans.get(self.name, 0.0) + (perf_counter() - self.started) * 1000


def mark(name: str) -> None:
    """Record the moment `name` (seconds, perf_counter) in the current request, when spans are on."""
    spans = _current.get()
    if spans is not None:
        spans["@" + name] = perf_counter()


class SpanRecorder:
    """Outermost ASGI middleware: opens each request's spans and appends them to the file once answered."""

    def __init__(self, app: ASGIApp, path: Path) -> None:
        self.app = app
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: whole lines, whatever else writes; one write per request, after its answer is sent.
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entered = perf_counter()
        spans: dict[str, float] = {}
        token = _current.set(spans)
        started_at: float | None = None
        send_ms = 0.0

        async def timed_send(message: Message) -> None:
            nonlocal started_at, send_ms
            before = perf_counter()
            if message["type"] == "http.response.start":
                started_at = before
            await send(message)
            send_ms += (perf_counter() - before) * 1000

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _current.reset(token)
        self._write(scope, entered, started_at, send_ms, spans)

    def _write(
        self, scope: Scope, entered: float, started_at: float | None, send_ms: float, spans: dict[str, float]
    ) -> None:
        record: dict[str, Any] = {
            "method": scope["method"],
            "route": getattr(scope.get("route"), "path", None),
        }
        received = scope.get(RECEIVED)
        if received is not None:
            record["framing"] = (received[1] - received[0]) * 1000
            record["loop_wait"] = (entered - received[1]) * 1000
        handler = spans.pop("@handler", None)
        thread_in, thread_out = spans.pop("@thread_in", None), spans.pop("@thread_out", None)
        returned = spans.pop("@returned", None)
        if handler is not None:
            record["dispatch"] = (handler - entered) * 1000
        if handler is not None and thread_in is not None:
            record["slot_hop"] = (thread_in - handler) * 1000
        if thread_out is not None and returned is not None:
            record["hop_back"] = (returned - thread_out) * 1000
        if returned is not None and started_at is not None:
            record["serialise"] = (started_at - returned) * 1000
        record.update(spans)
        record["send"] = send_ms
        record["app_total"] = (perf_counter() - entered) * 1000
        os.write(self.fd, (json.dumps(record) + "\n").encode())


def with_spans(app: ASGIApp, path: Path | None) -> ASGIApp:
    return app if path is None else SpanRecorder(app, path)
