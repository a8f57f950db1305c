"""Typed dependencies, so a route's signature reads as what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.auth.tokens import authenticate
from app.models import User
from app.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: it does no I/O, and a sync dependency would cost a hop through the thread pool.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with Session(runtime.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


_bearer = HTTPBearer(
    auto_error=False, description="A session token from OTP sign-in or an API token (`rt_...`)"
)


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    return authenticate(session, credentials.credentials if credentials else None, datetime.now(UTC))


CurrentUser = Annotated[User, Depends(get_current_user)]


def utcnow() -> datetime:
    return datetime.now(UTC)
