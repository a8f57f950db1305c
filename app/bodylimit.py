"""Every request body the app parses (each route with a JSON body) is bounded, whatever the route.

FastAPI reads a route's body whole before anything checks it: 100 MB posted to `POST /v1/auth/otp`, with
no sign-in, were buffered in full. This ASGI middleware wraps every request's `receive`; when the app
first asks for the body the router has chosen the route (FastAPI names it in the scope), and if that
route has a body FastAPI parses, a Content-Length over `RETRACE_MAX_JSON_BODY_BYTES` is answered 413
`payload_too_large` (and the connection closed) before a byte is read, and a body without one (chunked)
the moment it passes the bound. FastAPI reads a route's body before its dependencies, so this comes
before credentials are checked. The app then reads a disconnect and whatever it sends is dropped.
A route added later is bounded by being a route with a body. Routes that take raw bytes (the attachment
upload) have no parsed body and enforce their own bound, `RETRACE_MAX_UPLOAD_BYTES`, the same way.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.numerals import whole_number
from app.problems import Problem, problem_response


def payload_too_large(limit: int, what: str = "the request body") -> Problem:
    return Problem(
        413, "payload_too_large", f"{what} is larger than {limit} bytes", headers={"Connection": "close"}
    )


def parses_body(scope: Scope) -> bool:
    """True when the route chosen for `scope` (FastAPI names it in the scope) has a body it parses."""
    route = scope.get("route")
    return isinstance(route, APIRoute) and route.body_field is not None


class JsonBodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received, refused, answered = 0, False, False

        async def refuse() -> Message:
            nonlocal refused
            refused = True
            if not answered:
                # Built here, not per request: nearly every request is never refused.
                await problem_response(payload_too_large(self.limit))(scope, receive, send)
            return {"type": "http.disconnect"}  # the app's request ends here; what it sends is dropped

        async def bounded_receive() -> Message:
            # The route is known by the time the app reads the body: routing comes first.
            nonlocal received
            if refused:
                return {"type": "http.disconnect"}
            if not parses_body(scope):
                return await receive()
            if received == 0 and _declared_length(scope) > self.limit:
                return await refuse()  # before a byte of the body is read
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    return await refuse()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if refused:
                return
            answered = True
            await send(message)

        await self.app(scope, bounded_receive, guarded_send)


def _declared_length(scope: Scope) -> int:
    declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
    return whole_number(declared.decode("latin-1").strip()) or 0
