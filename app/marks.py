"""Marks as the API shows them: ownership checks, loading with their parts, version bumps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from app.models import Attachment, Ingestion, IngestionStatus, Mark, User
from app.problems import not_found
from app.schemas import AttachmentOut, IngestionOut, IngestionResult, MarkOut
from app.spans import span

Row = tuple[Mark, Attachment | None, Ingestion]


def owned_mark(
    session: Session, user: User, mark_id: uuid.UUID, *, for_update: bool = False, for_share: bool = False
) -> Mark:
    """The mark if it is the user's; another user's mark is indistinguishable from a missing one."""
    query = select(Mark).where(Mark.id == mark_id, Mark.user_id == user.id)
    if for_update or for_share:
        query = query.with_for_update(read=for_share and not for_update)
    mark = session.exec(query).first()
    if mark is None:
        raise not_found("mark")
    return mark


def rows_query() -> Select[Mark, Attachment, Ingestion]:
    """Marks with their attachment (outer: it may be missing) and their ingestion."""
    return select(Mark, Attachment, Ingestion).outerjoin(Attachment).join(Ingestion)


def load(session: Session, user: User, mark_id: uuid.UUID) -> Row:
    """The user's mark with its parts, in one query; 404 when it is not theirs."""
    with span("query"):
        row = session.exec(rows_query().where(Mark.id == mark_id, Mark.user_id == user.id)).first()
    if row is None:
        raise not_found("mark")
    mark, attachment, ingestion = row
    return mark, attachment, ingestion


def to_out(row: Row) -> MarkOut:
    mark, attachment, ingestion = row
    result = None
    if ingestion.status == IngestionStatus.success:
        result = IngestionResult(
            normalized_url=ingestion.normalized_url,
            word_count=ingestion.word_count or 0,
            title=ingestion.title,
        )
    return MarkOut(
        id=mark.id,
        url=mark.url,
        title=mark.title,
        note=mark.note,
        tags=mark.tags,
        created_at=mark.created_at,
        updated_at=mark.updated_at,
        attachment=None
        if attachment is None
        else AttachmentOut(
            content_type=attachment.content_type, size=attachment.size, sha256=attachment.sha256
        ),
        ingestion=IngestionOut(
            status=ingestion.status,
            version=ingestion.version,
            attempts=ingestion.attempts,
            error=ingestion.error,
            ingested_at=ingestion.ingested_at,
            result=result,
        ),
    )


def to_outs(rows: Sequence[Sequence[object]]) -> list[MarkOut]:
    return [to_out((row[0], row[1], row[2])) for row in rows]  # type: ignore[arg-type]


def start_new_version(ingestion: Ingestion) -> None:
    """A new URL or attachment: a fresh ingestion for the next version, its message not sent yet."""
    ingestion.version += 1
    ingestion.queued_at = None  # app/ingestion/outbox.py records it once the message is out
    ingestion.status = IngestionStatus.pending
    ingestion.attempts = 0
    ingestion.error = None
    ingestion.ingested_at = None
    ingestion.normalized_url = None
    ingestion.word_count = None
    ingestion.title = None


def ingestion_of(session: Session, mark_id: uuid.UUID) -> Ingestion:
    ingestion = session.get(Ingestion, mark_id, with_for_update=True)
    assert ingestion is not None  # created with its mark, deleted only with it
    return ingestion
