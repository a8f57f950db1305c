"""Every request body the app parses (each route with a JSON body) is bounded, whatever the route.

FastAPI reads a route's body whole before anything checks it: 100 MB posted to `POST /v1/auth/otp`, with
no sign-in, were buffered in full. This ASGI middleware finds the route a request is for and, when that
route has a body FastAPI parses, answers 413 `payload_too_large` (and closes the connection) from a
Content-Length over `RETRACE_MAX_JSON_BODY_BYTES` before the app runs, or the moment a body without one
(chunked) passes it while being read; the app then reads a disconnect and whatever it sends is dropped.
A route added later is bounded by being a route with a body. Routes that take raw bytes (the attachment
upload) have no parsed body and enforce their own bound, `RETRACE_MAX_UPLOAD_BYTES`, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import Problem, problem_response


def payload_too_large(limit: int, what: str = "the request body") -> Problem:
    return Problem(
        413, "payload_too_large", f"{what} is larger than {limit} bytes", headers={"Connection": "close"}
    )


def parses_body(routes: Sequence[BaseRoute], scope: Scope) -> bool:
    """True when the route that will serve `scope` has a body FastAPI reads and parses."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return isinstance(route, APIRoute) and route.body_field is not None
    return False


class JsonBodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int, routes: Sequence[BaseRoute]) -> None:
        self.app, self.limit, self.routes = app, limit, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not parses_body(self.routes, scope):
            await self.app(scope, receive, send)
            return
        refusal = problem_response(payload_too_large(self.limit))
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await refusal(scope, receive, send)  # before a byte of the body is read
            return
        received, refused, answered = 0, False, False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit and not refused:
                    refused = True
                    if not answered:
                        await refusal(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if refused:
                return  # the 413 went out instead
            answered = True
            await send(message)

        await self.app(scope, bounded_receive, guarded_send)
