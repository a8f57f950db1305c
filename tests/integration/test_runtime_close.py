"""Closing the service's parts gives their pooled PostgreSQL connections back to the server."""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from app.runtime import build_runtime
from tools.lattice import WorkerLattice


def test_closing_the_runtime_closes_its_pooled_connections(lattice: WorkerLattice) -> None:
    runtime = build_runtime(lattice.plane.settings())
    for engine in (runtime.engine, runtime.worker_engine):
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    pools = [engine.pool for engine in (runtime.engine, runtime.worker_engine)]
    assert all(isinstance(pool, QueuePool) for pool in pools)
    assert [pool.checkedin() for pool in pools] == [1, 1]  # type: ignore[attr-defined]
    runtime.close()
    assert [pool.checkedin() for pool in pools] == [0, 0]  # type: ignore[attr-defined]
