"""/healthz (the process runs) and /readyz (its dependencies answer)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import text

from app.deps import RuntimeDep
from app.problems import Problem
from app.routes.responses import errors
from app.schemas import HealthOut

router = APIRouter(tags=["health"])
log = logging.getLogger("retrace.health")


@router.get("/healthz", name="live")
async def healthz() -> HealthOut:
    return HealthOut()


def _check(runtime: RuntimeDep) -> list[str]:
    down = []
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readyz: database: %s", exc.__class__.__name__)
        down.append("database")
    try:
        runtime.ingestion.broker.client.ping()
    except Exception as exc:
        log.warning("readyz: redis: %s", exc.__class__.__name__)
        down.append("redis")
    return down


@router.get("/readyz", name="ready", responses=errors(503))
async def readyz(runtime: RuntimeDep) -> HealthOut:
    # In a request slot like any request: a busy service answers this later, not with a false 503 from
    # a pool that was only full.
    down = await runtime.in_db_thread(_check, runtime)
    if down:
        raise Problem(503, "not_ready", f"not answering: {', '.join(down)}", headers={"Retry-After": "1"})
    return HealthOut()
