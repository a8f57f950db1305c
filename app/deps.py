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

from app.auth.tokens import authenticate, hold_credential
from app.db import unreachable_reason
from app.models import User
from app.runtime import Runtime
from app.spans import mark, span

log = logging.getLogger("retrace.db")


async def get_runtime(request: Request) -> Runtime:
    # async: it does no I/O, and a sync dependency would cost a hop through the thread pool.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """The request's session, inside one of the pool's request slots until the route has returned.

    Never longer: the session (and its slot, connection and transaction) ends before the first byte of
    the answer is sent (`scope="function"` below), so no client reading slowly, or not at all, can hold
    a connection. A route must not read the request body with it either: JSON bodies are read by FastAPI
    before any dependency runs, and the upload takes short sessions of its own around its body.
    """
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
    # Routes commit what they write before they return, so closing only ends a read (or failed)
    # transaction, and when the server dropped the connection meanwhile (a restart), that transaction is
    # gone already. Raising could no longer change the answer.
    try:
        session.close()
    except DBAPIError as exc:
        log.warning("closing a session after its response: %s", unreachable_reason(exc))


# "function": closed when the route returns, before the response is sent (FastAPI's default, "request",
# kept it, with an open transaction, until a download's last byte had been read by the client).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


_bearer = HTTPBearer(
    auto_error=False, description="A session token from OTP sign-in or an API token (`rt_...`)"
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_current_user(session: SessionDep, credentials: BearerDep) -> User:
    """The signed-in user, with their credential and account held until the request's transaction ends.

    Every route that writes through the request's session gets, with its user, the order of its write
    against a revocation of its token and the deletion of its account: either the write commits first,
    or it finds the credential or the account gone and answers 401 (never a 404 for a mark that went
    with its account, never a write after a revocation answered).
    """
    secret = credentials.credentials if credentials else None
    authenticate(session, secret, utcnow())  # may commit (last_used_at): before anything is held
    return hold_credential(session, secret, utcnow())


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_signed_in_user(session: SessionDep, credentials: BearerDep) -> User:
    """The signed-in user, holding nothing: for the routes that lock the account or a token themselves
    (holding it first, then asking for it exclusively, would deadlock two such requests)."""
    return authenticate(session, credentials.credentials if credentials else None, utcnow())


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


T = TypeVar("T")


async def read_as_user(
    runtime: Runtime, credentials: HTTPAuthorizationCredentials | None, read: Callable[[Session, User], T]
) -> T:
    """Authenticate and read in one trip to the thread pool, on an autocommit session.

    For read routes: the token lookup and the read share one thread hop and one pooled connection, and
    closing the session sends nothing (no transaction was opened). The token is looked up on every
    request, so a revocation holds from the next one.
    """
    mark("handler")
    secret = credentials.credentials if credentials else None
    result = await runtime.in_db_thread(_read_in_own_session, runtime, secret, read)
    mark("returned")
    return result


def _read_in_own_session(runtime: Runtime, secret: str | None, read: Callable[[Session, User], T]) -> T:
    mark("thread_in")
    session = Session(runtime.read_engine, expire_on_commit=False)
    try:
        with span("auth"):
            user = authenticate(session, secret, utcnow())
        return read(session, user)
    finally:
        with span("close"):
            session.close()
        mark("thread_out")


async def read_with_secret(
    runtime: Runtime,
    credentials: HTTPAuthorizationCredentials | None,
    read: Callable[[Session, str | None], T],
) -> T:
    """As read_as_user, for a read that authenticates in its own statement (one round trip for both)."""
    mark("handler")
    secret = credentials.credentials if credentials else None
    result = await runtime.in_db_thread(_read_with_secret, runtime, secret, read)
    mark("returned")
    return result


def _read_with_secret(runtime: Runtime, secret: str | None, read: Callable[[Session, str | None], T]) -> T:
    mark("thread_in")
    session = Session(runtime.read_engine, expire_on_commit=False)
    try:
        return read(session, secret)
    finally:
        with span("close"):
            session.close()
        mark("thread_out")


def utcnow() -> datetime:
    return datetime.now(UTC)
