"""A mark saved while the broker is down is not lost: the requeue loop sends its message later."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import Session, select
from starlette.testclient import TestClient

from app.ingestion.outbox import RequeueRound, requeue_unsent
from app.main import create_app
from app.models import Ingestion
from tests.integration.flows import create_mark
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

# Nothing listens on port 1: every broker call of this app fails at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def _requeue(lattice: WorkerLattice, worker: DrainableWorker, *, stale_after: timedelta) -> RequeueRound:
    max_attempts = lattice.plane.settings().ingest_max_attempts
    return requeue_unsent(lattice.engine, worker.queue, stale_after=stale_after, max_attempts=max_attempts)


def _app_without_broker(lattice: WorkerLattice) -> TestClient:
    return TestClient(
        create_app(lattice.plane.settings(redis_url=DEAD_REDIS)), base_url="http://retrace.test"
    )


def test_mark_created_while_broker_is_down_is_saved_and_ingested_later(
    lattice: WorkerLattice, api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    with _app_without_broker(lattice) as outage:
        mark = create_mark(outage, user.headers, url="https://Example.org/a?utm_source=x")
    assert mark["ingestion"]["status"] == "pending"
    row = db.exec(select(Ingestion).where(Ingestion.mark_id == mark["id"])).one()
    assert row.queued_at is None, "an unsent message must be left for the requeue loop"

    assert _requeue(lattice, worker, stale_after=timedelta(minutes=10)).sent == 1
    worker.join()
    done = api.get(f"/v1/marks/{mark['id']}", headers=user.headers).json()
    assert done["ingestion"]["status"] == "success"
    assert done["ingestion"]["result"]["normalized_url"] == "https://example.org/a"


def test_requeue_leaves_recently_sent_and_finished_ingestions_alone(
    lattice: WorkerLattice, api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    finished = create_mark(api, user.headers, note="done soon")
    worker.join()
    worker.pause()
    create_mark(api, user.headers, note="sent just now, still pending")
    assert _requeue(lattice, worker, stale_after=timedelta(minutes=10)).sent == 0
    # Sent so long ago that the message must have been lost with the broker's data: sent again.
    assert _requeue(lattice, worker, stale_after=timedelta(seconds=-1)).sent == 1
    worker.resume()
    worker.join()
    assert api.get(f"/v1/marks/{finished['id']}", headers=user.headers).json()["ingestion"]["attempts"] == 1
