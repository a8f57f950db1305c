"""Getting each version's message to the broker, even when the broker was down at the time.

The API records `queued_at` with the new version in its transaction and sends after the commit. If
the broker does not answer, the mark is still saved (the client gets its 201) and `queued_at` goes
back to NULL; the worker's requeue loop sends it once the broker is back. It also re-sends messages
that were sent long ago and never finished (lost with a broker's data). Duplicates are harmless: the
actor's conditional updates make every delivery after the first a no-op.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from dramatiq.errors import BrokerError
from redis.exceptions import RedisError
from sqlalchemy import Engine, or_, update
from sqlmodel import col, select

from app.db import session_scope
from app.ingestion.queue import IngestionQueue
from app.models import OPEN_INGESTION_STATUSES, Ingestion

log = logging.getLogger("retrace.outbox")


def send(queue: IngestionQueue, engine: Engine, mark_id: uuid.UUID, version: int) -> bool:
    """Send the message for `version`; False (and left for the requeue loop) if the broker is down."""
    try:
        queue.enqueue(mark_id, version)
    except (RedisError, BrokerError) as exc:
        log.warning(
            "broker unavailable, ingestion of %s v%d left for the requeue loop: %s", mark_id, version, exc
        )
        with session_scope(engine) as session:
            session.execute(
                update(Ingestion)
                .where(col(Ingestion.mark_id) == mark_id, col(Ingestion.version) == version)
                .values(queued_at=None)
            )
        return False
    return True


def requeue_unsent(engine: Engine, queue: IngestionQueue, *, stale_after: timedelta, limit: int = 500) -> int:
    """Send every open ingestion whose message is unsent, or sent before `stale_after`; returns how many."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        # SKIP LOCKED: several worker processes share the work instead of sending the same messages.
        rows = session.exec(
            select(Ingestion.mark_id, Ingestion.version)
            .where(
                col(Ingestion.status).in_(OPEN_INGESTION_STATUSES),
                or_(col(Ingestion.queued_at).is_(None), col(Ingestion.queued_at) < now - stale_after),
            )
            .order_by(col(Ingestion.queued_at).asc().nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for mark_id, version in rows:
            queue.enqueue(mark_id, version)
            session.execute(
                update(Ingestion)
                .where(col(Ingestion.mark_id) == mark_id, col(Ingestion.version) == version)
                .values(queued_at=now)
            )
    return len(rows)


class RequeueLoop:
    """A daemon thread running `requeue_unsent` every `interval_s` until stopped."""

    def __init__(
        self, engine: Engine, queue: IngestionQueue, *, interval_s: float, stale_after_s: float
    ) -> None:
        self._engine, self._queue = engine, queue
        self._interval_s, self._stale_after = interval_s, timedelta(seconds=stale_after_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrace-requeue", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                sent = requeue_unsent(self._engine, self._queue, stale_after=self._stale_after)
            except Exception as exc:  # the database or broker is down: try again next round
                log.warning("requeue round failed: %s", exc.__class__.__name__)
                continue
            if sent:
                log.info("requeued %d ingestion message(s)", sent)
