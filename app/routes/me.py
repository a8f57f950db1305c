"""/v1/me: the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import delete, update
from sqlmodel import col, select

from app.accounts import ACCOUNT_GONE, lock_account_for_deletion
from app.deps import BearerDep, CurrentUser, RuntimeDep, SessionDep, SignedInUser, read_as_user
from app.models import Attachment, Mark, User
from app.problems import unauthenticated
from app.routes.responses import errors
from app.schemas import UserOut, UserPatch

router = APIRouter(prefix="/v1/me", tags=["users"])


@router.get("", name="get-me", responses=errors(401, 503))
async def get_me(runtime: RuntimeDep, credentials: BearerDep) -> UserOut:
    user = await read_as_user(runtime, credentials, lambda _session, user: user)
    return UserOut.model_validate(user, from_attributes=True)


@router.patch("", name="update-me", responses=errors(401, 422, 503))
def update_me(body: UserPatch, user: CurrentUser, session: SessionDep) -> UserOut:
    # A statement, not a flush of the loaded row: if the account was deleted meanwhile, that is a 401.
    updated = session.scalars(
        update(User).where(col(User.id) == user.id).values(display_name=body.display_name).returning(User)
    ).first()
    session.commit()
    if updated is None:
        raise unauthenticated(ACCOUNT_GONE)
    return UserOut.model_validate(updated, from_attributes=True)


@router.delete("", name="delete-me", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def delete_me(user: SignedInUser, session: SessionDep, runtime: RuntimeDep) -> Response:
    # After this lock every attachment write of the user has committed (so the next statement sees its
    # blob) or will find the account gone: no file can appear that this deletion does not remove.
    lock_account_for_deletion(session, user.id)
    blob_ids = session.exec(select(Attachment.blob_id).join(Mark).where(col(Mark.user_id) == user.id)).all()
    # Tokens, marks, attachments and ingestions go with the user by ON DELETE CASCADE.
    session.execute(delete(User).where(col(User.id) == user.id))
    session.commit()
    for blob_id in blob_ids:
        runtime.blobs.delete(blob_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
