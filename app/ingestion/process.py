"""What one delivery of `(mark_id, version)` does to the database. At-least-once safe.

Every state change is a conditional UPDATE on `(mark_id, version, status)`, so a duplicate, late or
stale message matches no row and changes nothing, and `success` is never left for its version.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import col, select

from app.blobs import BlobStore
from app.db import session_scope
from app.ingestion.normalise import attachment_text, choose_title, count_words, normalize_url
from app.models import OPEN_INGESTION_STATUSES, Attachment, Ingestion, IngestionStatus, Mark


class AttachmentCorrupt(Exception):
    """The bytes on disk do not hash to the sha256 recorded at upload."""


class RetryLater(Exception):
    """This attempt failed and attempts remain; the broker redelivers after a backoff."""


def ingest(engine: Engine, blobs: BlobStore, mark_id: uuid.UUID, version: int, max_attempts: int) -> None:
    attempt = _claim(engine, mark_id, version)
    if attempt is None:
        return  # deleted mark, stale version, or already final: nothing to do
    try:
        result = _compute(engine, blobs, mark_id)
        if result is None:
            return  # deleted while we worked: its ingestion row went with it
    except Exception as exc:
        if attempt < max_attempts:
            raise RetryLater(f"attempt {attempt} of {max_attempts}: {exc}") from exc
        _finish(engine, mark_id, version, status=IngestionStatus.failed, error=f"{type(exc).__name__}: {exc}")
        return
    _finish(engine, mark_id, version, status=IngestionStatus.success, **result)


def _claim(engine: Engine, mark_id: uuid.UUID, version: int) -> int | None:
    """Take the version (status `processing`, one more attempt) in a transaction of its own.

    Committed before the work starts, so an attempt counts even when its worker dies mid-job: a message
    that kills its worker every time still ends as `failed` after the last attempt.
    """
    with session_scope(engine) as session:
        return session.scalar(
            update(Ingestion)
            .where(
                col(Ingestion.mark_id) == mark_id,
                col(Ingestion.version) == version,
                col(Ingestion.status).in_(OPEN_INGESTION_STATUSES),
            )
            .values(status=IngestionStatus.processing, attempts=col(Ingestion.attempts) + 1)
            .returning(col(Ingestion.attempts))
        )


def _compute(engine: Engine, blobs: BlobStore, mark_id: uuid.UUID) -> dict[str, object] | None:
    with session_scope(engine) as session:
        mark = session.get(Mark, mark_id)
        attachment = session.exec(select(Attachment).where(Attachment.mark_id == mark_id)).first()
    if mark is None:
        return None
    text_body: str | None = None
    if attachment is not None:
        data = blobs.read_all(attachment.blob_id)
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise AttachmentCorrupt(f"attachment bytes do not match sha256 {attachment.sha256}")
        text_body = attachment_text(attachment.content_type, data)
    return {
        "normalized_url": normalize_url(mark.url),
        "word_count": count_words(mark.note, text_body),
        "title": choose_title(mark.title, text_body, mark.url),
        "error": None,
    }


def _finish(engine: Engine, mark_id: uuid.UUID, version: int, **values: object) -> None:
    if values["status"] == IngestionStatus.success:
        values["ingested_at"] = datetime.now(UTC)
    with session_scope(engine) as session:
        session.execute(
            update(Ingestion)
            .where(
                col(Ingestion.mark_id) == mark_id,
                col(Ingestion.version) == version,
                col(Ingestion.status) == IngestionStatus.processing,
            )
            .values(**values)
        )
