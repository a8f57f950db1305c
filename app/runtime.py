"""Everything a request or a worker needs, built once per app from its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import anyio
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.blobs import BlobStore
from app.db import make_engine, make_worker_engine
from app.ingestion.queue import IngestionQueue, make_ingestion_queue
from app.mail import Mailer, make_mailer
from app.problems import Problem
from app.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    worker_engine: Engine  # the ingestion jobs' (app.db.make_worker_engine)
    # `engine` in autocommit, same pool: a read request's statements each stand alone, so it needs no
    # BEGIN and no ROLLBACK round trip when its session closes (app.deps.read_as_user).
    read_engine: Engine
    blobs: BlobStore
    mailer: Mailer
    ingestion: IngestionQueue
    # One slot per request that may hold a pooled connection. Requests queue for a slot in the event
    # loop, holding nothing; without it, requests holding connections waited for a thread while the
    # threads waited for connections, and a burst of 200 clients timed out into 503s.
    db_slots: anyio.CapacityLimiter

    @asynccontextmanager
    async def db_slot(self) -> AsyncIterator[None]:
        """Hold one of the request slots of the connection pool for the duration of the block."""
        borrower = object()  # not the task: FastAPI may end a dependency in another task than it began
        try:
            # A free slot is taken at once; only a request that has to wait sets up the timeout.
            self.db_slots.acquire_on_behalf_of_nowait(borrower)
        except anyio.WouldBlock:
            await self._wait_for_slot(borrower)
        try:
            yield
        finally:
            self.db_slots.release_on_behalf_of(borrower)

    async def _wait_for_slot(self, borrower: object) -> None:
        try:
            with anyio.fail_after(self.settings.db_pool_timeout_s):
                await self.db_slots.acquire_on_behalf_of(borrower)
        except TimeoutError:
            raise Problem(
                503, "service_busy", "the service is busy; retry later", headers={"Retry-After": "1"}
            ) from None

    async def in_db_thread(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work in the thread pool, inside a request slot."""
        async with self.db_slot():
            return await run_in_threadpool(work, *args, **kwargs)

    def close(self) -> None:
        self.engine.dispose()
        self.worker_engine.dispose()
        self.ingestion.broker.close()


def build_runtime(settings: Settings, *, broker: RedisBroker | None = None) -> Runtime:
    """Wire the parts; connects to nothing until first use."""
    if settings.database_url is None or settings.redis_url is None:
        missing = [
            n
            for n, v in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url))
            if not v
        ]
        raise ValueError(
            "set " + " and ".join(f"RETRACE_{name}" for name in missing) + " (or run `nox -s serve`)"
        )
    engine = make_engine(settings)
    worker_engine = make_worker_engine(settings)
    blobs = BlobStore(settings.blob_dir)
    return Runtime(
        settings=settings,
        engine=engine,
        worker_engine=worker_engine,
        read_engine=engine.execution_options(isolation_level="AUTOCOMMIT"),
        blobs=blobs,
        mailer=make_mailer(settings.mailer),
        ingestion=make_ingestion_queue(settings, worker_engine, blobs, broker),
        db_slots=anyio.CapacityLimiter(settings.db_pool_size),
    )
