"""How the API is served: uvicorn with httptools, the request head bounded.

uvicorn's httptools protocol reads a request's head (request line and headers) whole, however long:
one 200 MB header was buffered entirely (RSS +370 MB) before anything could refuse it. The protocol here
counts the bytes of the head as they arrive and answers 431 once they pass the limit, so a client can
make the server hold at most one limit's worth (plus one read) per connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.main import create_app
from app.runtime import Runtime

_REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/problem+json\r\n"
    b"connection: close\r\n"
)


def _refusal(limit: int) -> bytes:
    body = (
        '{"type":"https://retrace.example/problems/header-too-large","title":"Request Header Fields Too '
        f'Large","status":431,"detail":"the request line and headers exceed {limit} bytes",'
        '"code":"header_too_large"}'
    ).encode()
    return _REFUSAL + b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def bounded_head_protocol(max_head_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, refusing a request whose head is longer than `max_head_bytes`."""
    refusal = _refusal(max_head_bytes)

    class BoundedHeadProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._in_head = True
            self._head_bytes = 0

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            # Checked after parsing: a read that ends the head and carries body bytes is fine.
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self.transport.write(refusal)
                self.transport.close()

        def on_headers_complete(self) -> None:
            self._in_head, self._head_bytes = False, 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_head = True  # the next request on this keep-alive connection starts its head
            super().on_message_complete()

    return BoundedHeadProtocol


def run_api(runtime: Runtime, *, host: str, port: int, log_level: str, access_log: bool = True) -> None:
    """Serve the API on host:port until SIGINT/SIGTERM (uvicorn owns both signals)."""
    uvicorn.run(
        create_app(runtime=runtime),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=bounded_head_protocol(runtime.settings.max_header_bytes),
    )
