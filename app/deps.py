"""Typed dependencies, so a route's signature reads as what it needs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.auth.tokens import authenticate
from app.db import unreachable_reason
from app.models import User
from app.runtime import Runtime

log = logging.getLogger("retrace.db")


async def get_runtime(request: Request) -> Runtime:
    # async: it does no I/O, and a sync dependency would cost a hop through the thread pool.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    session = Session(runtime.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        _close_after_response(session)


def _close_after_response(session: Session) -> None:
    # FastAPI closes the session after the response is sent. Routes commit what they write before they
    # answer, so closing only ends a read (or failed) transaction, and when the server dropped the
    # connection meanwhile (a restart), that transaction is gone already. Raising could no longer change
    # the answer; it would only make uvicorn reset the client's keep-alive connection mid-stream.
    try:
        session.close()
    except DBAPIError as exc:
        log.warning("closing a session after its response: %s", unreachable_reason(exc))


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
