"""Rules every answer follows, whatever the route: applied once, around the whole app.

- `HEAD` is answered as `GET` would be, without the body (RFC 9110, 9.3.2): same status, same headers.
- Every answer under `/v1` carries `Cache-Control: no-store`: each depends on the caller's credentials
  (or hands out one, as sign-in does), so no cache on the way may keep it.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in a HEAD request's scope (seen by the routes as a GET), for a response that can skip its body.
HEAD_ONLY = "retrace.head_only"
PRIVATE_PREFIX = "/v1/"
NO_STORE = "no-store"


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def without_body(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # A copy: the server keeps its own scope, where the method is still HEAD (so it sends no body).
        await self.app({**scope, "method": "GET", HEAD_ONLY: True}, receive, without_body)


class NoStoreForPrivate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not private(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (name, value) for name, value in message.get("headers", []) if name != b"cache-control"
                ]
                message = {**message, "headers": [*headers, (b"cache-control", NO_STORE.encode())]}
            await send(message)

        await self.app(scope, receive, no_store)


def private(path: str) -> bool:
    """Whether answers on this path are private (the API's, under /v1)."""
    return path.startswith(PRIVATE_PREFIX) or path == PRIVATE_PREFIX.rstrip("/")


def with_policy(app: ASGIApp) -> ASGIApp:
    """Outermost, so even the catch-all 500 (sent by Starlette's ServerErrorMiddleware) follows it."""
    return NoStoreForPrivate(HeadAsGet(app))
