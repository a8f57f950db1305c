"""A response whose bytes come from a blob range opened before the headers are sent."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import iterate_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.blobs import OpenRange
from app.http_policy import HEAD_ONLY


class BlobResponse(Response):
    """Streams an `OpenRange` and closes it, whether the body was sent whole, cut off by the client
    going away, or never started; a HEAD request's answer reads none of it."""

    def __init__(self, blob: OpenRange, status_code: int, headers: Mapping[str, str]) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.blob = blob

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            await send(start)
            if not scope.get(HEAD_ONLY):
                async for chunk in iterate_in_threadpool(self.blob.chunks()):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.blob.close()
