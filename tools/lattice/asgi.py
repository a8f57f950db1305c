"""Driving one request through an ASGI app by hand, for what an HTTP client cannot stage in-process:
a body that stalls at a chosen byte, then a client that goes away."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

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
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "lattice.test", **headers}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("lattice.test", 80),
    }
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
