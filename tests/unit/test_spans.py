"""The opt-in per-request spans (app/spans.py): one line per request when on, nothing installed when off."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.main import create_app
from app.settings import Settings
from app.spans import RECEIVED, SpanRecorder, mark, span


def _settings(spans_path: Path | None) -> Settings:
    return Settings(
        database_url="postgresql://nobody@127.0.0.1:1/none",
        redis_url="redis://127.0.0.1:1/0",
        spans_path=spans_path,
    )


def _blocking_read() -> None:
    mark("thread_in")
    with span("auth"):
        time.sleep(0.002)
    with span("query"):
        time.sleep(0.001)
    mark("thread_out")


async def _handler_app(scope: Scope, receive: Receive, send: Send) -> None:
    mark("handler")
    await run_in_threadpool(_blocking_read)
    mark("returned")
    await PlainTextResponse("ok")(scope, receive, send)


def test_a_request_writes_its_spans_measured_in_the_thread_too(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    client = TestClient(SpanRecorder(_handler_app, path))
    assert client.get("/anything").status_code == 200
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["auth"] >= 2.0, "a span in the worker thread lands in the request's record"
    assert record["query"] >= 1.0
    for name in ("dispatch", "slot_hop", "hop_back", "serialise", "send"):
        assert record[name] >= 0.0, name
    assert record["app_total"] >= record["auth"] + record["query"]
    assert not any(name.startswith("@") for name in record), "the marks become spans"


def test_the_service_records_spans_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    on = TestClient(create_app(_settings(path)))  # no lifespan: connects to nothing
    assert on.get("/healthz").status_code == 200
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["route"] == "/healthz"
    assert record["method"] == "GET"

    off = create_app(_settings(None))
    assert TestClient(off).get("/healthz").status_code == 200
    assert not isinstance(off.build_middleware_stack(), SpanRecorder)
    with span("auth"):  # no request and spans off: a no-op, not an error
        pass


class _Clock:
    """perf_counter for the recorder: each reading is the next of a script (seconds)."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def test_the_record_is_the_differences_of_its_moments_in_ms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pure arithmetic, on a scripted clock: every span is the difference of the moments that bound it."""
    # The recorder's reads, in order: entered, handler, thread_in, auth in/out, thread_out, returned,
    # the response start's send before/after, the body's send before/after, and the total at the end.
    clock = _Clock(
        10.0, 10.001, 10.003, 10.004, 10.010, 10.011, 10.015, 10.020, 10.021, 10.022, 10.024, 10.030
    )
    monkeypatch.setattr("app.spans.perf_counter", clock)

    def blocking() -> None:
        mark("thread_in")
        with span("auth"):
            pass
        mark("thread_out")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        mark("handler")
        blocking()  # in this thread: the clock's order stays the script's
        mark("returned")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    path = tmp_path / "deeper" / "spans.jsonl"
    # (9.990, 9.995): the head's data_received, as the timed protocol puts it in the scope.
    client = TestClient(_with_received(SpanRecorder(app, path), (9.990, 9.995)))
    assert client.get("/x").status_code == 200
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    expected = {
        "framing": 5.0,  # 9.990 -> 9.995
        "loop_wait": 5.0,  # 9.995 -> entered 10.0
        "dispatch": 1.0,  # entered -> handler
        "slot_hop": 2.0,  # handler -> thread_in
        "auth": 6.0,
        "hop_back": 4.0,  # thread_out -> returned
        "serialise": 5.0,  # returned -> the response's start
        "send": 3.0,  # two sends: 1 ms and 2 ms
        "app_total": 30.0,
    }
    assert record["method"] == "GET"
    for name, ms in expected.items():
        assert record[name] == pytest.approx(ms, abs=1e-6), name
    assert set(record) == {"method", "route", *expected}


def _with_received(app: Any, received: tuple[float, float]) -> Any:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, RECEIVED: received}, receive, send)

    return wrapped


def test_a_websocket_or_lifespan_scope_passes_through_unrecorded(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    recorder = SpanRecorder(app, path)
    asyncio.run(recorder({"type": "lifespan"}, _never, _ignore))
    assert seen == ["lifespan"]
    assert path.read_text() == ""


async def _never() -> Message:
    raise AssertionError("not read")


async def _ignore(message: Message) -> None:
    return None
