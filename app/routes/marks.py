"""/v1/marks: create, list (keyset cursor), get, patch, delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import Text, and_, or_, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlmodel import Session, col

from app import cursor
from app.deps import (
    BearerDep,
    CurrentUser,
    RuntimeDep,
    SessionDep,
    read_as_user,
    read_with_secret,
    utcnow,
)
from app.ingestion.outbox import send
from app.marks import (
    ingestion_of,
    load,
    load_out_for_secret,
    out_rows_query,
    owned_mark,
    row_out,
    start_new_version,
    to_out,
)
from app.models import Attachment, Ingestion, IngestionStatus, Mark, User
from app.problems import Problem, ValidationErrorItem
from app.routes.responses import errors, header
from app.schemas import NO_NUL_PATTERN, MarkCreate, MarkOut, MarkPage, MarkPatch, QueryDigits
from app.spans import span
from app.tags import normal_form

router = APIRouter(prefix="/v1/marks", tags=["marks"])


_CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "headers": {"Location": header("The new mark's path, `/v1/marks/<id>`", {"pattern": "^/v1/marks/"})}
    }
}


@router.post(
    "", name="create", status_code=status.HTTP_201_CREATED, responses={**_CREATED, **errors(401, 422, 503)}
)
def create_mark(
    body: MarkCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep, response: Response
) -> MarkOut:
    now = utcnow()
    mark = Mark(
        user_id=user.id,
        url=body.url,
        title=body.title,
        note=body.note,
        tags=body.tags,
        created_at=now,
        updated_at=now,
    )
    session.add(mark)
    session.flush()
    ingestion = Ingestion(mark_id=mark.id)  # unsent (queued_at NULL) until send() records it
    session.add(ingestion)
    session.commit()
    # Enqueue after the commit, so the worker can never look for a mark that is not there yet.
    send(runtime.ingestion, runtime.engine, mark.id, ingestion.version)
    response.headers["Location"] = f"/v1/marks/{mark.id}"
    return to_out((mark, None, ingestion))


@router.get("", name="list", response_model=MarkPage, responses=errors(401, 422, 503))
async def list_marks(
    runtime: RuntimeDep,
    credentials: BearerDep,
    limit: Annotated[
        int,
        Query(ge=1, le=100, description="Written with the digits 0-9 only (not `1.0`, `+5` or ` 5`)."),
        QueryDigits,
    ] = 20,
    cursor_: Annotated[
        str | None,
        Query(
            alias="cursor",
            max_length=200,
            description="Opaque: a page's `next_cursor`, as this service issued it; any other value "
            "is a 422 `invalid_cursor`.",
        ),
    ] = None,
    # PostgreSQL text cannot hold NUL: refused here (422), not by the database (500).
    tag: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            pattern=NO_NUL_PATTERN,
            description="Marks carrying this tag, compared in the tags' normal form (surrounding "
            "whitespace and format characters removed, lower-cased, NFC).",
        ),
    ] = None,
    status_: Annotated[IngestionStatus | None, Query(alias="status")] = None,
) -> Response:
    def read(session: Session, user: User) -> MarkPage:
        return _page(session, user, limit, cursor_, tag, status_)

    page = await read_as_user(runtime, credentials, read)
    # Built and validated once: FastAPI would validate the 20 marks against the response model again,
    # which was a fifth of the list's server time. The model still documents the answer (response_model).
    return Response(page.model_dump_json(), media_type="application/json")


def _page(
    session: Session,
    user: User,
    limit: int,
    cursor_: str | None,
    tag: str | None,
    status_: IngestionStatus | None,
) -> MarkPage:
    query = out_rows_query().where(col(Mark.user_id) == user.id)
    if tag is not None:
        # The column is the generic ARRAY, whose contains() is not implemented: coerce to PostgreSQL's
        # ARRAY so it renders `tags @> ARRAY[...]`, which the GIN index ix_marks_tags serves.
        query = query.where(type_coerce(col(Mark.tags), PG_ARRAY(Text)).contains([normal_form(tag)]))
    if status_ is not None:
        query = query.where(col(Ingestion.status) == status_)
    if cursor_ is not None:
        created_at, mark_id = cursor.decode(cursor_)
        query = query.where(
            or_(
                col(Mark.created_at) < created_at,
                and_(col(Mark.created_at) == created_at, col(Mark.id) < mark_id),
            )
        )
    with span("query"):
        rows = (
            session.connection()
            .execute(query.order_by(col(Mark.created_at).desc(), col(Mark.id).desc()).limit(limit + 1))
            .all()
        )
    with span("build"):
        items = [row_out(row) for row in rows[:limit]]
        next_cursor = cursor.encode(items[-1].created_at, items[-1].id) if len(rows) > limit else None
        return MarkPage(items=items, next_cursor=next_cursor)


@router.get("/{mark_id}", name="get", responses=errors(401, 404, 422, 503))
async def get_mark(mark_id: uuid.UUID, runtime: RuntimeDep, credentials: BearerDep) -> MarkOut:
    def read(session: Session, secret: str | None) -> MarkOut:
        return load_out_for_secret(session, secret, mark_id, utcnow())

    return await read_with_secret(runtime, credentials, read)


@router.patch("/{mark_id}", name="update", responses=errors(401, 404, 422, 503))
def update_mark(
    mark_id: uuid.UUID, body: MarkPatch, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> MarkOut:
    mark = owned_mark(session, user, mark_id, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    url_changed = "url" in changes and changes["url"] != mark.url
    for field, value in changes.items():
        setattr(mark, field, value)
    if mark.url is None and mark.note is None:
        rule = "a mark needs a url, a note, or both"
        raise Problem(
            422,
            "validation_failed",
            rule,
            errors=[ValidationErrorItem(loc=["body"], msg=rule, type="url_or_note_required")],
        )
    mark.updated_at = utcnow()
    session.add(mark)
    version = None
    if url_changed:
        ingestion = ingestion_of(session, mark_id)
        start_new_version(ingestion)
        session.add(ingestion)
        version = ingestion.version
    # Read inside the transaction that wrote it (the mark is locked): read after the commit, an account
    # deleted meanwhile would turn a write that happened into a 404.
    out = to_out(load(session, user, mark_id))
    session.commit()
    if version is not None:
        send(runtime.ingestion, runtime.engine, mark_id, version)
    return out


@router.delete(
    "/{mark_id}", name="delete", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422, 503)
)
def delete_mark(mark_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep) -> Response:
    mark = owned_mark(session, user, mark_id, for_update=True)
    attachment = session.get(Attachment, mark_id)
    blob_id = attachment.blob_id if attachment else None
    session.delete(mark)
    session.commit()
    if blob_id is not None:
        runtime.blobs.delete(blob_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
