"""Driving one request through an ASGI app by hand, for what an HTTP client cannot stage in-process:
a body that stalls at a chosen byte, then a client that goes away; something done between two parts
of a body; a client that has not yet taken the answer's headers when something else happens."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
Message = dict[str, Any]


@dataclass
class StalledRequest(Generic[T]):
    at_stall: T  # what the probe saw while the app waited for the rest of the body
    sent: list[Message] = field(default_factory=list)  # what the app sent back
    raised: BaseException | None = None  # what the app let escape (a server error on a real port)


async def stall_then_disconnect(
    app: Callable[..., Any],
    method: str,
    path: str,
    headers: Mapping[str, str],
    *,
    first_bytes: bytes,
    probe: Callable[[], T],
) -> StalledRequest[T]:
    """Send `first_bytes` of the body; when the app asks for more, run `probe`, then disconnect."""
    scope = _scope(method, path, headers)
    calls = 0
    result: StalledRequest[T] | None = None

    async def receive() -> Message:
        nonlocal calls, result
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": first_bytes, "more_body": True}
        if result is None:
            result = StalledRequest(at_stall=probe())
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    raised: BaseException | None = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = exc
    if result is None:
        raise AssertionError(f"the app never read the body of {method} {path}: {sent[:1]}")
    result.sent, result.raised = sent, raised
    return result


@dataclass
class DrivenRequest:
    status: int | None  # None: the app never started an answer
    headers: dict[str, str]
    body: bytes
    complete: bool  # the app sent its last body message
    between: object = None  # what `between_parts` returned
    at_start: object = None  # what `at_response_start` returned
    raised: BaseException | None = None  # what the app let escape (a cut-off answer on a real port)


async def drive(
    app: Callable[..., Any],
    method: str,
    path: str,
    headers: Mapping[str, str],
    *,
    body_parts: Sequence[bytes] = (),
    between_parts: Callable[[], object] | None = None,
    at_response_start: Callable[[], object] | None = None,
) -> DrivenRequest:
    """One request with its body in `body_parts`; `between_parts` runs (in a thread, so it may make
    blocking calls) when the app asks for the second part, and `at_response_start` when the app sends
    its answer's headers, before the client takes them: a client that is slow to read."""
    scope = _scope(method, path, headers)
    parts = list(body_parts) or [b""]
    result = DrivenRequest(status=None, headers={}, body=b"", complete=False)
    given = 0

    async def receive() -> Message:
        nonlocal given
        if given >= len(parts):
            await anyio.sleep_forever()  # a client that sent everything and waits for the answer
        if given == 1 and between_parts is not None:
            result.between = await anyio.to_thread.run_sync(between_parts)
        given += 1
        return {"type": "http.request", "body": parts[given - 1], "more_body": given < len(parts)}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
            if at_response_start is not None:
                result.at_start = await anyio.to_thread.run_sync(at_response_start)
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")
            result.complete = not message.get("more_body", False)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        result.raised = exc
    return result


def _scope(method: str, target: str, headers: Mapping[str, str]) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "lattice.test", **headers}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("lattice.test", 80),
    }
