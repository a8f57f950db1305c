"""A request waits for one of the pool's slots at most `db_pool_timeout_s`, then gets the 503
`service_busy` problem with Retry-After. The runtime connects to nothing until used: no service."""

from __future__ import annotations

import anyio
import pytest

from app.problems import Problem
from app.runtime import build_runtime
from app.settings import Settings

_NOWHERE = {"database_url": "postgresql://x@127.0.0.1:1/x", "redis_url": "redis://127.0.0.1:1/0"}


def test_a_request_that_finds_every_slot_taken_is_told_to_come_back() -> None:
    runtime = build_runtime(Settings(**_NOWHERE, db_pool_size=1, db_pool_timeout_s=0.05))  # type: ignore[arg-type]

    async def busy() -> Problem:
        await runtime.db_slots.acquire_on_behalf_of("another request")
        with pytest.raises(Problem) as raised:
            async with runtime.db_slot():
                pass
        return raised.value

    try:
        problem = anyio.run(busy)
    finally:
        runtime.close()
    assert (problem.status, problem.code) == (503, "service_busy")
    assert problem.detail == "the service is busy; retry later"
    assert problem.headers == {"Retry-After": "1"}
