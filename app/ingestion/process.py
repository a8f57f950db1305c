"""What one delivery of `(mark_id, version)` does to the database. At-least-once safe.

Every state change is a conditional UPDATE on `(mark_id, version, status)`, so a duplicate, late or
stale message matches no row and changes nothing, and `success` is never left for its version.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import col

from app.blobs import BlobStore
from app.db import session_scope
from app.ingestion.normalise import attachment_text, choose_title, count_words, normalize_url
from app.models import Attachment, Ingestion, IngestionStatus, Mark

_OPEN = (IngestionStatus.pending, IngestionStatus.processing)


class AttachmentCorrupt(Exception):
    """The bytes on disk do not hash to the sha256 recorded at upload."""


class RetryLater(Exception):
    """This attempt failed and attempts remain; the broker redelivers after a backoff."""


@dataclass(frozen=True)
class Claim:
    """This delivery's attempt number, and the mark as it stood when the attempt began."""

    attempt: int
    mark: Mark
    attachment: Attachment | None


def ingest(engine: Engine, blobs: BlobStore, mark_id: uuid.UUID, version: int, max_attempts: int) -> None:
    claim = _claim(engine, mark_id, version)
    if claim is None:
        return  # deleted mark, stale version, or already final: nothing to do
    try:
        result = _compute(blobs, claim)
    except Exception as exc:
        if claim.attempt < max_attempts:
            raise RetryLater(f"attempt {claim.attempt} of {max_attempts}: {exc}") from exc
        _finish(engine, mark_id, version, status=IngestionStatus.failed, error=f"{type(exc).__name__}: {exc}")
        return
    _finish(engine, mark_id, version, status=IngestionStatus.success, **result)


def _claim(engine: Engine, mark_id: uuid.UUID, version: int) -> Claim | None:
    """Take the version (status `processing`, one more attempt) and read the mark, in one transaction.

    The UPDATE's row lock on the ingestion holds off a concurrent delete of the mark (its cascade
    waits for us), so the mark is still there to read; its commit makes the attempt count even if
    this process dies before finishing.
    """
    with session_scope(engine) as session:
        attempt = session.scalar(
            update(Ingestion)
            .where(
                col(Ingestion.mark_id) == mark_id,
                col(Ingestion.version) == version,
                col(Ingestion.status).in_(_OPEN),
            )
            .values(status=IngestionStatus.processing, attempts=col(Ingestion.attempts) + 1)
            .returning(col(Ingestion.attempts))
        )
        if attempt is None:
            return None
        mark = session.get(Mark, mark_id)
        if mark is None:
            return None
        return Claim(attempt, mark, session.get(Attachment, mark_id))


def _compute(blobs: BlobStore, claim: Claim) -> dict[str, object]:
    mark, attachment = claim.mark, claim.attachment
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
