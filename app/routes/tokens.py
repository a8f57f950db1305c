"""/v1/tokens: long-lived API tokens for scripts and CI."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Response, status
from sqlalchemy import update
from sqlmodel import col, select

from app.accounts import hold_account
from app.auth.tokens import mint
from app.deps import CurrentUser, SessionDep, SignedInUser, utcnow
from app.models import Token, TokenKind
from app.problems import not_found
from app.routes.responses import errors
from app.schemas import TokenCreate, TokenCreated, TokenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post("", name="create", status_code=status.HTTP_201_CREATED, responses=errors(401, 422, 503))
def create_token(body: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    now = utcnow()
    expires_at = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    minted = mint(session, user.id, TokenKind.api, now, name=body.name, expires_at=expires_at)
    session.commit()
    token = minted.token
    return TokenCreated(
        id=token.id,
        name=body.name,
        prefix=token.prefix,
        token=minted.secret,
        created_at=token.created_at,
        expires_at=token.expires_at,
    )


@router.get("", name="list", responses=errors(401, 503))
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenOut]:
    tokens = session.exec(
        select(Token)
        .where(Token.user_id == user.id, Token.kind == TokenKind.api, col(Token.revoked_at).is_(None))
        .order_by(col(Token.created_at).desc(), col(Token.id).desc())
    ).all()
    return [
        TokenOut(
            id=t.id,
            name=t.name or "",
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
        )
        for t in tokens
    ]


@router.delete(
    "/{token_id}", name="revoke", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422, 503)
)
def revoke_token(token_id: uuid.UUID, user: SignedInUser, session: SessionDep) -> Response:
    # One conditional statement: two revocations racing (or the account's deletion) cannot both succeed,
    # and the loser gets a 404 instead of a failed flush of a row that is gone. No lock on the account:
    # holding it (even FOR KEY SHARE) deadlocked with a PATCH /v1/me that holds this token while it
    # updates the account row; a deletion that won is told apart below (401, not 404).
    revoked = session.execute(
        update(Token)
        .where(
            col(Token.id) == token_id,
            col(Token.user_id) == user.id,
            col(Token.kind) == TokenKind.api,
            col(Token.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
        .returning(col(Token.id))
    ).first()
    if revoked is None:
        hold_account(session, user.id)  # 401 when the account went meanwhile
        raise not_found("token")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
