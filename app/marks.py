"""Marks as the API shows them: ownership checks, loading with their parts, version bumps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row as SqlRow
from sqlalchemy import and_, bindparam
from sqlalchemy import select as core_select
from sqlalchemy.sql import Select as CoreSelect
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from app.auth.hashing import digest
from app.auth.tokens import TokenColumns, accept
from app.models import Attachment, Ingestion, IngestionStatus, Mark, Token, User
from app.problems import not_found, unauthenticated
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


_MARKS = Mark.__table__  # type: ignore[attr-defined]
_ATTACHMENTS = Attachment.__table__  # type: ignore[attr-defined]
_INGESTIONS = Ingestion.__table__  # type: ignore[attr-defined]
# What a MarkOut shows, as plain columns: the read routes build their answer from these rows, with no ORM
# object, identity map or instrumented attribute in between (a third of the GET's CPU in the API).
_OUT_COLUMNS = (
    *(_MARKS.c[name] for name in ("id", "url", "title", "note", "tags", "created_at", "updated_at")),
    *(_ATTACHMENTS.c[name].label(f"a_{name}") for name in ("content_type", "size", "sha256")),
    *(
        _INGESTIONS.c[name].label(f"i_{name}")
        for name in ("status", "version", "attempts", "error", "ingested_at", "normalized_url", "word_count")
    ),
    _INGESTIONS.c.title.label("i_title"),
)


def out_rows_query() -> CoreSelect[tuple[object, ...]]:
    """rows_query()'s rows as the columns a MarkOut shows (the same joins, the same order of filters)."""
    return core_select(*_OUT_COLUMNS).select_from(
        _MARKS.outerjoin(_ATTACHMENTS, _ATTACHMENTS.c.mark_id == _MARKS.c.id).join(
            _INGESTIONS, _INGESTIONS.c.mark_id == _MARKS.c.id
        )
    )


# Built once: each request only binds its two values (SQLAlchemy's cache key and compiled form are kept).
_ONE_OUT = out_rows_query().where(
    _MARKS.c.id == bindparam("mark_id"), _MARKS.c.user_id == bindparam("user_id")
)


def load_out(session: Session, user: User, mark_id: uuid.UUID) -> MarkOut:
    """The user's mark as the API shows it, in one query; 404 when it is not theirs."""
    with span("query"):
        row = session.connection().execute(_ONE_OUT, {"mark_id": mark_id, "user_id": user.id}).first()
    if row is None:
        raise not_found("mark")
    with span("build"):
        return row_out(row)


_TOKENS = Token.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_TOKEN_COLUMNS = ("id", "kind", "token_hash", "revoked_at", "expires_at", "last_used_at")
# The token lookup of authenticate() and the read of load_out() in one statement, one round trip: the
# token's row (and its user's) always, the mark's columns when the mark is that user's (NULL otherwise).
_ONE_OUT_FOR_DIGEST = (
    core_select(*(_TOKENS.c[name].label(f"t_{name}") for name in _TOKEN_COLUMNS), *_OUT_COLUMNS)
    .select_from(
        _TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id).outerjoin(
            _MARKS.outerjoin(_ATTACHMENTS, _ATTACHMENTS.c.mark_id == _MARKS.c.id).join(
                _INGESTIONS, _INGESTIONS.c.mark_id == _MARKS.c.id
            ),
            and_(_MARKS.c.user_id == _USERS.c.id, _MARKS.c.id == bindparam("mark_id")),
        )
    )
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


def load_out_for_secret(session: Session, secret: str | None, mark_id: uuid.UUID, now: datetime) -> MarkOut:
    """authenticate() then load_out(), in one round trip: 401 as authenticate() answers it (first), then
    404 when the mark is not that user's."""
    if not secret:
        raise unauthenticated()
    with span("query"):
        row = (
            session.connection()
            .execute(_ONE_OUT_FOR_DIGEST, {"token_hash": digest(secret), "mark_id": mark_id})
            .first()
        )
    if row is None:
        raise unauthenticated()
    m = row._mapping
    with span("auth"):
        accept(session, secret, TokenColumns(*(m[f"t_{name}"] for name in _TOKEN_COLUMNS)), now)
    if m["id"] is None:
        raise not_found("mark")
    with span("build"):
        return row_out(row)


def row_out(row: SqlRow[tuple[object, ...]]) -> MarkOut:
    """A MarkOut from a row of out_rows_query(), field for field what to_out makes of the ORM objects."""
    m = row._mapping
    status = m["i_status"]
    return MarkOut(
        id=m["id"],
        url=m["url"],
        title=m["title"],
        note=m["note"],
        tags=m["tags"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        attachment=None
        if m["a_sha256"] is None  # the outer join found none (sha256 is NOT NULL in the table)
        else AttachmentOut(content_type=m["a_content_type"], size=m["a_size"], sha256=m["a_sha256"]),
        ingestion=IngestionOut(
            status=status,
            version=m["i_version"],
            attempts=m["i_attempts"],
            error=m["i_error"],
            ingested_at=m["i_ingested_at"],
            result=IngestionResult(
                normalized_url=m["i_normalized_url"], word_count=m["i_word_count"] or 0, title=m["i_title"]
            )
            if status == IngestionStatus.success
            else None,
        ),
    )


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
