"""The opt-in per-request spans (app/spans.py): one line per request when on, nothing installed when off."""

from __future__ import annotations

import json
import time
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.main import create_app
from app.settings import Settings
from app.spans import SpanRecorder, mark, span


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
