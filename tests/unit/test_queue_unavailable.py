"""A Redis error that escapes a route (none does today: ingestion goes through the outbox) is answered
with the 503 `queue_unavailable` problem and Retry-After, never a 500."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request

from app import problems

_SCOPE = {"type": "http", "method": "POST", "path": "/v1/marks", "headers": [], "query_string": b""}


def test_redis_errors_are_handled_as_the_queue_being_unavailable() -> None:
    app = FastAPI()
    problems.install_problem_handlers(app)
    for error in (RedisConnectionError, RedisTimeoutError):
        assert app.exception_handlers[error] is problems._on_queue_unavailable


def test_the_answer_is_a_503_to_retry() -> None:
    response = asyncio.run(problems._on_queue_unavailable(Request(_SCOPE), RedisConnectionError("down")))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    body = json.loads(bytes(response.body))
    assert (body["code"], body["detail"]) == ("queue_unavailable", "the queue is unavailable; retry later")
