"""Typed dependencies, so a route's signature reads as what it needs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

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


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """The request's session, inside one of the pool's request slots until the response is sent."""
    async with runtime.db_slot():
        session = Session(runtime.engine, expire_on_commit=False)
        try:
            yield session
        finally:
            if session.in_transaction():
                # Shielded: a client that went away must not leave the connection checked out.
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(_close_after_response, session)
            else:
                session.close()  # no transaction: nothing to roll back, no I/O


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
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_current_user(session: SessionDep, credentials: BearerDep) -> User:
    return authenticate(session, credentials.credentials if credentials else None, utcnow())


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_user_then_release(runtime: RuntimeDep, credentials: BearerDep) -> User:
    """The signed-in user, looked up in a session that is closed before the route runs.

    For routes that read a request body of the client's pace (uploads): a connection held across the
    body read would sit `idle in transaction` for as long as a stalled client likes, and two dozen such
    clients would take the whole pool.
    """
    secret = credentials.credentials if credentials else None
    return await runtime.in_db_thread(_authenticate_in_own_session, runtime, secret)


def _authenticate_in_own_session(runtime: Runtime, secret: str | None) -> User:
    with Session(runtime.engine, expire_on_commit=False) as session:
        return authenticate(session, secret, utcnow())


UserThenRelease = Annotated[User, Depends(get_user_then_release)]

T = TypeVar("T")


async def read_as_user(
    runtime: Runtime, credentials: HTTPAuthorizationCredentials | None, read: Callable[[Session, User], T]
) -> T:
    """Authenticate and read in one trip to the thread pool, on an autocommit session.

    For read routes: the token lookup and the read share one thread hop and one pooled connection, and
    closing the session sends nothing (no transaction was opened). The token is looked up on every
    request, so a revocation holds from the next one.
    """
    secret = credentials.credentials if credentials else None
    return await runtime.in_db_thread(_read_in_own_session, runtime, secret, read)


def _read_in_own_session(runtime: Runtime, secret: str | None, read: Callable[[Session, User], T]) -> T:
    with Session(runtime.read_engine, expire_on_commit=False) as session:
        return read(session, authenticate(session, secret, utcnow()))


def utcnow() -> datetime:
    return datetime.now(UTC)
