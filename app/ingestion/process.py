"""What one delivery of `(mark_id, version)` does to the database. At-least-once safe.

Every state change is a conditional UPDATE on `(mark_id, version, status)`, so a duplicate, late or
stale message matches no row and changes nothing, and `success` is never left for its version.

Every attempt ends the version or counts against it: whatever fails after the claim (the read, the
computation, or the write of the result) is retried while attempts remain, then recorded as `failed`;
a delivery that finds the attempts spent (its worker died in the last one) records `failed` at once.
Nothing a client stored reaches a log line or the stored error: they name the exception's type only.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, case, select, update
from sqlmodel import col

from app.blobs import BlobStore
from app.ingestion.normalise import (
    TITLE_LIMIT,
    attachment_text,
    choose_title,
    count_words,
    normalize_url,
    storable,
)
from app.models import OPEN_INGESTION_STATUSES, Attachment, Ingestion, IngestionStatus, Mark

log = logging.getLogger("retrace.ingestion")

# The error of a version whose attempts were spent without an answer (the worker died in its last one,
# or could not record its end); the requeue loop writes the same for such a version it finds.
ATTEMPTS_SPENT = "attempts spent: the last attempt did not finish"


class AttachmentCorrupt(Exception):
    """The bytes on disk do not hash to the sha256 recorded at upload."""

    def __init__(self) -> None:
        super().__init__("the attachment's bytes do not match their sha256")


class RetryLater(Exception):
    """This attempt failed and attempts remain; the broker redelivers after a backoff."""


@dataclass(frozen=True)
class StoredBytes:
    blob_id: uuid.UUID
    sha256: str
    content_type: str


@dataclass(frozen=True)
class Source:
    """The mark (and its attachment, if any) as the job reads it."""

    url: str | None
    title: str | None
    note: str | None
    attachment: StoredBytes | None


def ingest(engine: Engine, blobs: BlobStore, mark_id: uuid.UUID, version: int, max_attempts: int) -> None:
    # One connection for the job's three statements. On the worker engine (autocommit) each commits
    # alone, and the commit()/rollback() calls below are no-ops; on any other engine they keep the claim
    # committed before the work starts.
    with engine.connect() as conn:
        claimed = _claim(conn, mark_id, version, max_attempts)
        if claimed is None:
            return  # deleted mark, stale version, or already final: nothing to do
        attempt, status = claimed
        if status == IngestionStatus.failed:
            log.warning("ingestion of %s v%d: %s", mark_id, version, ATTEMPTS_SPENT)
            return
        try:
            source = _read(conn, mark_id)
            if source is None:
                return  # deleted while we worked: its ingestion row went with it
            _finish(conn, mark_id, version, status=IngestionStatus.success, **_compute(blobs, source))
        except Exception as exc:
            conn.rollback()  # the failed statement's transaction, if any
            reason = describe(exc)
            if attempt < max_attempts:
                # Not chained: the cause's message may quote what it was given (a title, a SQL parameter).
                raise RetryLater(f"attempt {attempt} of {max_attempts}: {reason}") from None
            _finish(conn, mark_id, version, status=IngestionStatus.failed, error=reason)
            log.warning(
                "ingestion of %s v%d failed after %d attempt(s): %s", mark_id, version, attempt, reason
            )


def describe(exc: BaseException) -> str:
    """The exception's type, and its message only when it is one of ours (which quote no content)."""
    if isinstance(exc, AttachmentCorrupt):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _claim(conn: Connection, mark_id: uuid.UUID, version: int, max_attempts: int) -> tuple[int, str] | None:
    """Take the version (status `processing`, one more attempt) in a transaction of its own.

    Committed before the work starts, so an attempt counts even when its worker dies mid-job: a message
    that kills its worker every time still ends as `failed` after the last attempt, since the delivery
    after it finds the attempts spent and writes `failed` instead of claiming.
    """
    row = conn.execute(_CLAIM, {"b_mark_id": mark_id, "b_version": version, "b_max": max_attempts}).first()
    conn.commit()
    return None if row is None else (int(row[0]), str(row[1]))


def _read(conn: Connection, mark_id: uuid.UUID) -> Source | None:
    """The mark and its attachment in one statement."""
    row = conn.execute(_READ, {"b_mark_id": mark_id}).first()
    if row is None:
        return None
    url, title, note, blob_id, sha256, content_type = row
    attachment = None if blob_id is None else StoredBytes(blob_id, sha256, content_type)
    return Source(url, title, note, attachment)


def _compute(blobs: BlobStore, source: Source) -> dict[str, object]:
    text_body: str | None = None
    stored = source.attachment
    if stored is not None:
        data = blobs.read_all(stored.blob_id)
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            raise AttachmentCorrupt
        text_body = attachment_text(stored.content_type, data)
    url = normalize_url(source.url)
    title = choose_title(source.title, text_body, source.url)
    return {
        "normalized_url": None if url is None else storable(url),
        "word_count": count_words(source.note, text_body),
        "title": None if title is None else storable(title)[:TITLE_LIMIT],
        "error": None,
    }


def _finish(conn: Connection, mark_id: uuid.UUID, version: int, **values: object) -> None:
    if values["status"] == IngestionStatus.success:
        statement = _FINISH_SUCCESS
        values["ingested_at"] = datetime.now(UTC)
    else:
        statement = _FINISH_FAILED
    conn.execute(statement, {"b_mark_id": mark_id, "b_version": version, **values})
    conn.commit()


# The job's statements, built once: building a statement and computing its cache key per job cost more
# Python time than PostgreSQL took to run it (at four threads under one GIL, that time is the rate).
_THIS_VERSION = (
    col(Ingestion.mark_id) == bindparam("b_mark_id"),
    col(Ingestion.version) == bindparam("b_version"),
)
_ATTEMPTS_LEFT = col(Ingestion.attempts) < bindparam("b_max")
_CLAIM = (
    update(Ingestion)
    .where(*_THIS_VERSION, col(Ingestion.status).in_(OPEN_INGESTION_STATUSES))
    .values(
        status=case((_ATTEMPTS_LEFT, IngestionStatus.processing.value), else_=IngestionStatus.failed.value),
        attempts=case((_ATTEMPTS_LEFT, col(Ingestion.attempts) + 1), else_=col(Ingestion.attempts)),
        error=case((_ATTEMPTS_LEFT, col(Ingestion.error)), else_=ATTEMPTS_SPENT),
    )
    .returning(col(Ingestion.attempts), col(Ingestion.status))
)
_READ = (
    select(
        col(Mark.url),
        col(Mark.title),
        col(Mark.note),
        col(Attachment.blob_id),
        col(Attachment.sha256),
        col(Attachment.content_type),
    )
    .outerjoin(Attachment, col(Attachment.mark_id) == col(Mark.id))
    .where(col(Mark.id) == bindparam("b_mark_id"))
)
_FINISHING = update(Ingestion).where(*_THIS_VERSION, col(Ingestion.status) == IngestionStatus.processing)
# The values' parameters take their columns' names (SQLAlchemy binds a SET column to its own name); the
# WHERE clause's are prefixed, as it requires.
_FINISH_SUCCESS = _FINISHING.values(
    {c: bindparam(c) for c in ("status", "error", "normalized_url", "word_count", "title", "ingested_at")}
)
_FINISH_FAILED = _FINISHING.values({c: bindparam(c) for c in ("status", "error")})
