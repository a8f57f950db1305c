"""Bearer tokens: session tokens from sign-in and long-lived API tokens, looked up by digest."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from app.auth.hashing import digest, matches
from app.models import Token, TokenKind, User
from app.problems import unauthenticated

_PREFIX = {TokenKind.session: "rs_", TokenKind.api: "rt_"}
PREFIX_LENGTH = 10
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class MintedToken:
    token: Token
    secret: str


def mint(
    session: Session,
    user_id: uuid.UUID,
    kind: TokenKind,
    now: datetime,
    *,
    name: str | None = None,
    expires_at: datetime | None = None,
) -> MintedToken:
    secret = _PREFIX[kind] + secrets.token_urlsafe(32)
    token = Token(
        user_id=user_id,
        kind=kind,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=digest(secret),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    return MintedToken(token, secret)


# Built once: each request only binds the digest (SQLAlchemy keeps the cache key and compiled form).
_BY_DIGEST = select(Token, User).join(User).where(Token.token_hash == bindparam("token_hash"))


def authenticate(session: Session, secret: str | None, now: datetime) -> User:
    """The user behind a bearer secret, or a 401 problem."""
    if not secret:
        raise unauthenticated()
    found = session.exec(_BY_DIGEST, params={"token_hash": digest(secret)}).first()
    if found is None:
        raise unauthenticated()
    token, user = found
    accept(session, secret, token, now)
    return user


class TokenFields(Protocol):
    """What accept() reads of a token: the ORM row, or the same columns read with another statement."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> TokenKind: ...
    @property
    def token_hash(self) -> str: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def last_used_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class TokenColumns:
    id: uuid.UUID
    kind: TokenKind
    token_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None


def accept(session: Session, secret: str, token: TokenFields, now: datetime) -> None:
    """401 unless the token found for `secret` is valid now; records its use (API tokens, once a minute)."""
    if not matches(secret, token.token_hash) or token.revoked_at is not None:
        raise unauthenticated()
    if token.expires_at is not None and token.expires_at <= now:
        raise unauthenticated("the token has expired")
    if token.kind == TokenKind.api and (
        token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION
    ):
        # A statement, not a flush of the loaded row: a token revoked or deleted (with its user) meanwhile
        # updates nothing instead of failing the request.
        session.execute(update(Token).where(col(Token.id) == token.id).values(last_used_at=now))
        session.commit()


def hold_credential(session: Session, secret: str | None, now: datetime) -> User:
    """The user behind a secret that is still valid now, its token and account held until the session's
    transaction ends; 401 if either is gone. One statement, no write: a re-check at commit time.

    The token is held `FOR SHARE` (a revocation, an UPDATE of it, waits) and the account `FOR KEY SHARE`
    (its deletion waits, app/accounts.py; an update of its display name does not): a write in this
    transaction commits before either answers, or it finds the credential revoked, expired or its account
    deleted, and answers 401.
    """
    if not secret:
        raise unauthenticated()
    user = session.exec(
        select(User)
        .join(Token)
        .where(
            Token.token_hash == digest(secret),
            col(Token.revoked_at).is_(None),
            or_(col(Token.expires_at).is_(None), col(Token.expires_at) > now),
        )
        # PostgreSQL locks a row's tables in the order of these clauses: the user first, as DELETE /v1/me
        # does (its row, then its tokens by cascade). The other order deadlocks with it
        # (tests/regression/test_writes_racing_account_deletion.py answers 503 then).
        .suffix_with("FOR KEY SHARE OF users FOR SHARE OF tokens")
    ).first()
    if user is None:
        raise unauthenticated("the token was revoked or has expired, or its account was deleted")
    return user
