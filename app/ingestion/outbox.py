"""Getting each version's message to the broker, even when the broker or the API process was down.

A new version is committed with `queued_at` NULL ("unsent"); the API sends its message after the
commit and only then records `queued_at`. So a version whose message never left (the broker did not
answer, or the API process died between its commit and the send) reads as unsent, and the worker's
requeue loop sends it within two of its rounds (seconds), instead of taking it for one sent and lost.
The loop also re-sends messages sent long ago whose version never finished (lost with a broker's data),
and closes as `failed` a version whose attempts are all spent (nothing is sent past them). Duplicates
are harmless: the actor's conditional updates make every delivery after the first a no-op.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dramatiq.errors import BrokerError
from redis.exceptions import RedisError
from sqlalchemy import Engine, bindparam, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from app.db import session_scope
from app.ingestion.process import ATTEMPTS_SPENT
from app.ingestion.queue import IngestionQueue
from app.models import OPEN_INGESTION_STATUSES, Ingestion, IngestionStatus

log = logging.getLogger("retrace.outbox")

Version = tuple[uuid.UUID, int]

_THIS_VERSION = (
    col(Ingestion.mark_id) == bindparam("b_mark_id"),
    col(Ingestion.version) == bindparam("b_version"),
)
_MARK_SENT = update(Ingestion).where(*_THIS_VERSION).values(queued_at=bindparam("b_now"))


def send(queue: IngestionQueue, engine: Engine, mark_id: uuid.UUID, version: int) -> bool:
    """Send the message for a committed `version`, then record it sent; False if the broker is down."""
    try:
        queue.enqueue(mark_id, version)
    except (RedisError, BrokerError) as exc:
        log.warning(
            "broker unavailable, ingestion of %s v%d left for the requeue loop: %s", mark_id, version, exc
        )
        return False  # `queued_at` stays NULL: the requeue loop sends it
    try:
        # Autocommit: one round trip, no BEGIN/COMMIT.
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                _MARK_SENT, {"b_mark_id": mark_id, "b_version": version, "b_now": datetime.now(UTC)}
            )
    except SQLAlchemyError as exc:
        # The message is out; left looking unsent, it is sent once more by the loop (a harmless duplicate).
        log.warning(
            "ingestion of %s v%d sent but not recorded as sent: %s", mark_id, version, type(exc).__name__
        )
    return True


@dataclass(frozen=True)
class RequeueRound:
    sent: int = 0
    closed: int = 0  # versions closed as `failed`: their attempts were spent
    # Open versions seen unsent this round and left for the next (see `requeue_unsent`'s `act_on_unsent`).
    unsent: frozenset[Version] = field(default_factory=frozenset)


def requeue_unsent(
    engine: Engine,
    queue: IngestionQueue,
    *,
    stale_after: timedelta,
    max_attempts: int,
    act_on_unsent: Set[Version] | None = None,
    limit: int = 500,
) -> RequeueRound:
    """Send every open version whose message is unsent, or was sent before `stale_after` and never
    finished; close as `failed` those of them whose attempts are spent.

    `act_on_unsent`: only the unsent versions in it are acted on (the loop passes those it saw unsent a
    round ago, so one whose API is sending it right now is not sent twice); None acts on all of them.
    """
    now = datetime.now(UTC)
    sent = closed = 0
    waiting: set[Version] = set()
    with session_scope(engine) as session:
        # SKIP LOCKED: several worker processes share the work instead of sending the same messages.
        rows = session.exec(
            select(Ingestion.mark_id, Ingestion.version, Ingestion.attempts, Ingestion.queued_at)
            .where(
                col(Ingestion.status).in_(OPEN_INGESTION_STATUSES),
                or_(col(Ingestion.queued_at).is_(None), col(Ingestion.queued_at) < now - stale_after),
            )
            .order_by(col(Ingestion.queued_at).asc().nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for mark_id, version, attempts, queued_at in rows:
            key = (mark_id, version)
            if queued_at is None and act_on_unsent is not None and key not in act_on_unsent:
                waiting.add(key)
                continue
            params = {"b_mark_id": mark_id, "b_version": version}
            if attempts >= max_attempts:
                session.execute(
                    update(Ingestion)
                    .where(*_THIS_VERSION)
                    .values(status=IngestionStatus.failed, error=ATTEMPTS_SPENT),
                    params,
                )
                closed += 1
                continue
            queue.enqueue(mark_id, version)
            session.execute(_MARK_SENT, {**params, "b_now": now})
            sent += 1
    return RequeueRound(sent=sent, closed=closed, unsent=frozenset(waiting))


class RequeueLoop:
    """A daemon thread running `requeue_unsent` at start and every `interval_s` until stopped."""

    def __init__(
        self,
        engine: Engine,
        queue: IngestionQueue,
        *,
        interval_s: float,
        stale_after_s: float,
        max_attempts: int,
    ) -> None:
        self._engine, self._queue = engine, queue
        self._interval_s, self._stale_after = interval_s, timedelta(seconds=stale_after_s)
        self._max_attempts = max_attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrace-requeue", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        seen_unsent: frozenset[Version] = frozenset()
        while not self._stop.is_set():
            try:
                done = requeue_unsent(
                    self._engine,
                    self._queue,
                    stale_after=self._stale_after,
                    max_attempts=self._max_attempts,
                    act_on_unsent=seen_unsent,
                )
            except Exception as exc:  # the database or broker is down: try again next round
                log.warning("requeue round failed: %s", exc.__class__.__name__)
            else:
                seen_unsent = done.unsent
                if done.sent or done.closed:
                    log.info("requeued %d ingestion message(s), closed %d spent", done.sent, done.closed)
            self._stop.wait(self._interval_s)
