"""The API's and the worker's engines take their pool and connection limits from the settings.

Building an engine connects to nothing, so this is pure configuration: what each pool will do when it
is full (wait `db_pool_timeout_s`, then fail) and that bound values stay out of logged errors.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from app.db import make_engine, make_worker_engine
from app.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://someone@127.0.0.1:5432/retrace",
    redis_url="redis://127.0.0.1:6379/0",
    db_pool_size=3,
    db_pool_timeout_s=7.5,
    db_connect_timeout_s=4,
    worker_threads=2,
    db_schema="s1",
    db_statement_timeout_ms=1234,
)


def _pool(engine: Engine) -> QueuePool:
    assert isinstance(engine.pool, QueuePool)
    return engine.pool


@pytest.mark.parametrize(
    ("build", "size"), [(make_engine, SETTINGS.db_pool_size), (make_worker_engine, SETTINGS.worker_threads)]
)
def test_each_pool_is_sized_and_waits_as_the_settings_say(build: object, size: int) -> None:
    engine = build(SETTINGS)  # type: ignore[operator]
    try:
        pool = _pool(engine)
        assert (pool.size(), pool._max_overflow, pool.timeout()) == (size, size, 7.5)
        assert engine.hide_parameters is True  # bound values (what users sent) stay out of logged errors
    finally:
        engine.dispose()
