"""/v1/me: the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import col, select

from app.deps import CurrentUser, RuntimeDep, SessionDep
from app.models import Attachment, Mark
from app.routes.responses import errors
from app.schemas import UserOut, UserPatch

router = APIRouter(prefix="/v1/me", tags=["users"])


@router.get("", name="get-me", responses=errors(401, 503))
async def get_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.patch("", name="update-me", responses=errors(401, 422, 503))
def update_me(body: UserPatch, user: CurrentUser, session: SessionDep) -> UserOut:
    user.display_name = body.display_name
    session.add(user)
    session.commit()
    return UserOut.model_validate(user, from_attributes=True)


@router.delete("", name="delete-me", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def delete_me(user: CurrentUser, session: SessionDep, runtime: RuntimeDep) -> Response:
    blob_ids = session.exec(select(Attachment.blob_id).join(Mark).where(col(Mark.user_id) == user.id)).all()
    # Tokens, marks, attachments and ingestions go with the user by ON DELETE CASCADE.
    session.delete(user)
    session.commit()
    for blob_id in blob_ids:
        runtime.blobs.delete(blob_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
