"""/v1/marks/{id}/attachment: binary bytes in and out, with Range and ETag."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from sqlmodel import Session

from app.auth.tokens import authenticate, hold_credential
from app.blobs import StoredBlob, TooLarge
from app.deps import BearerDep, CurrentUser, RuntimeDep, SessionDep, utcnow
from app.ingestion.outbox import send
from app.marks import ingestion_of, owned_mark, start_new_version
from app.models import Attachment
from app.numerals import whole_number
from app.problems import Problem, not_found
from app.ranges import Unsatisfiable, etag_matches, if_range_holds, parse_range
from app.routes.blob_response import BlobResponse
from app.routes.responses import errors, header
from app.runtime import Runtime
from app.schemas import AttachmentOut

router = APIRouter(prefix="/v1/marks/{mark_id}/attachment", tags=["attachments"])

_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
# Any media type is stored as sent; application/octet-stream is listed first because generated clients
# (openapi-python-client) skip an operation whose only body type is the `*/*` wildcard.
# Not required: an empty body (`Content-Length: 0`) is a valid 0-byte attachment (docs/api.md), and a
# document that required a body would call that request a violation.
_UPLOAD_BODY = {
    "requestBody": {
        "required": False,
        "description": "The attachment's bytes, sent with a Content-Length; an empty body stores a "
        "0-byte attachment.",
        "content": {"application/octet-stream": _BINARY, "*/*": _BINARY},
    }
}


def _too_large(limit: int) -> Problem:
    return Problem(413, "payload_too_large", f"the attachment is larger than {limit} bytes")


@router.put(
    "",
    name="upload",
    responses=errors(401, 404, 411, 413, 422, 503),
    openapi_extra=_UPLOAD_BODY,
    summary="Store the request body as the mark's attachment",
)
async def upload_attachment(
    mark_id: uuid.UUID,
    request: Request,
    credentials: BearerDep,
    runtime: RuntimeDep,
    content_length: Annotated[str | None, Header(include_in_schema=False)] = None,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> AttachmentOut:
    # No connection is held while the body arrives (at the client's pace): each database step takes a
    # request slot of its own, and each authenticates (the first before anything else is looked at).
    secret = credentials.credentials if credentials else None
    await runtime.in_db_thread(_check_owner, runtime, secret, mark_id)
    limit = runtime.settings.max_upload_bytes
    declared = whole_number(content_length) if content_length is not None else None
    if declared is None:
        raise Problem(411, "length_required", "send the attachment with a Content-Length header")
    if declared > limit:
        raise _too_large(limit)  # refused before a byte of the body is read
    media_type = (content_type or "application/octet-stream").strip()
    if len(media_type) > 255 or not media_type.isprintable():
        raise Problem(422, "validation_failed", "Content-Type must be printable and at most 255 characters")
    try:
        blob = await runtime.blobs.write(request.stream(), limit)
    except TooLarge:
        raise _too_large(limit) from None
    try:
        return await runtime.in_db_thread(_attach, runtime, secret, mark_id, blob, media_type)
    except BaseException:
        runtime.blobs.delete(blob.blob_id)
        raise
    finally:
        runtime.blobs.settle(blob.blob_id)  # committed or deleted: no longer work in progress


def _check_owner(runtime: Runtime, secret: str | None, mark_id: uuid.UUID) -> None:
    with Session(runtime.engine) as session:
        authenticate(session, secret, utcnow())  # its own 401s, before anything else is looked at
        # Held while the mark is looked for: an account deleted meanwhile is a 401, not a missing mark.
        owned_mark(session, hold_credential(session, secret, utcnow()), mark_id)


def _attach(
    runtime: Runtime, secret: str | None, mark_id: uuid.UUID, blob: StoredBlob, media_type: str
) -> AttachmentOut:
    with Session(runtime.engine, expire_on_commit=False) as session:
        # The credential is checked again, and held, in the transaction that stores the version: a token
        # revoked (or expired, or its account deleted) while the body arrived gets 401, and the caller
        # drops the blob; a revocation that comes later waits for this commit.
        user = hold_credential(session, secret, utcnow())
        owned_mark(session, user, mark_id, for_update=True)  # deleted meanwhile: 404
        attachment = session.get(Attachment, mark_id)
        old_blob = attachment.blob_id if attachment else None
        if attachment is None:
            attachment = Attachment(
                mark_id=mark_id, blob_id=blob.blob_id, content_type=media_type, size=0, sha256=""
            )
        attachment.blob_id, attachment.content_type = blob.blob_id, media_type
        attachment.size, attachment.sha256 = blob.size, blob.sha256
        session.add(attachment)
        ingestion = ingestion_of(session, mark_id)
        start_new_version(ingestion)
        session.add(ingestion)
        version = ingestion.version
        session.commit()
    if old_blob is not None:
        runtime.blobs.delete(old_blob)
    send(runtime.ingestion, runtime.engine, mark_id, version)
    return AttachmentOut(content_type=media_type, size=blob.size, sha256=blob.sha256)


# The bytes go back with the Content-Type they were uploaded with (clients rely on it), but a browser
# must never run them as a page of the API's origin: no sniffing, and a sandbox with nothing allowed.
_SERVED_AS_DATA = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

_ETAG = {"ETag": header("The bytes' strong tag: their sha256, quoted", {"pattern": '^"[0-9a-f]{64}"$'})}
_SERVED_HEADERS = {
    **_ETAG,
    "Accept-Ranges": header("Byte ranges are served", {"const": "bytes"}),
    "Content-Length": header("The length of this body", {"pattern": "^[0-9]+$"}),
    "X-Content-Type-Options": header("Never sniffed as another type", {"const": "nosniff"}),
    "Content-Security-Policy": header(
        "Nothing runs if a browser opens the bytes", {"const": _SERVED_AS_DATA["Content-Security-Policy"]}
    ),
}
# A download is the stored bytes under the stored media type (Content-Type as uploaded: clients rely on
# it). Bytes have no schema, so the document gives none: in OpenAPI 3.1 a media type without `schema`
# is content the document does not describe. With `type: string`, a validator reads the body by its
# served type (an empty body stored as text/vnd.yaml parses to null, random bytes under a JSON type do not
# parse) and calls the service wrong for serving exactly what was uploaded.
_SERVED_BYTES: dict[str, Any] = {}
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The exact bytes, served with the media type they were uploaded with",
        "content": {"*/*": _SERVED_BYTES},
        "headers": _SERVED_HEADERS,
    },
    206: {
        "description": "One byte range of the bytes, served with the media type they were uploaded with",
        "content": {"*/*": _SERVED_BYTES},
        "headers": {
            **_SERVED_HEADERS,
            "Content-Range": header(
                "The range served, as `bytes <first>-<last>/<size>`",
                {"pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
            ),
        },
    },
    304: {"description": "Not modified: the If-None-Match tag matches", "headers": _ETAG},
}


@router.get(
    "",
    name="download",
    responses={**_DOWNLOAD_RESPONSES, **errors(401, 404, 416, 422, 503)},
    response_class=Response,
)
def download_attachment(
    mark_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    range_: Annotated[str | None, Header(alias="range", include_in_schema=False)] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
    if_range: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    # FOR SHARE until the blob is opened: a replacement or deletion (each takes the mark FOR UPDATE, and
    # unlinks the old blob only after its commit) waits for the open, so the descriptor reads the old
    # bytes whole; one that committed first is seen here as the new bytes or a 404.
    owned_mark(session, user, mark_id, for_share=True)
    attachment = session.get(Attachment, mark_id)
    if attachment is None:
        raise not_found("attachment")
    etag = f'"{attachment.sha256}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", **_SERVED_AS_DATA}
    if etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    size = attachment.size
    if not if_range_holds(if_range, etag):
        range_ = None
    try:
        wanted = parse_range(range_, size)
    except Unsatisfiable:
        raise Problem(
            416,
            "range_not_satisfiable",
            f"the attachment has {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    start, length, code = 0, size, status.HTTP_200_OK
    if wanted is not None:
        start, length, code = wanted.start, wanted.length, status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = wanted.content_range(size)
    headers["Content-Length"] = str(length)
    # Set as a header, not media_type=, so Starlette does not append a charset to the stored type.
    headers["Content-Type"] = attachment.content_type
    return BlobResponse(runtime.blobs.open_range(attachment.blob_id, start, length), code, headers)


@router.delete(
    "", name="delete", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422, 503)
)
def delete_attachment(
    mark_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    owned_mark(session, user, mark_id, for_update=True)
    attachment = session.get(Attachment, mark_id)
    if attachment is None:
        raise not_found("attachment")
    blob_id = attachment.blob_id
    session.delete(attachment)
    session.commit()
    runtime.blobs.delete(blob_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
