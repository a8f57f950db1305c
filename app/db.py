"""The database engine and sessions, always on the schema named by RETRACE_DB_SCHEMA."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.liveness import invalidate_pool_on_connection_loss
from app.settings import Settings


def _options(settings: Settings) -> str:
    # `options` is sent in the startup packet: the schema and the timeouts hold from the first statement.
    return f"-c search_path={settings.db_schema} -c statement_timeout={settings.db_statement_timeout_ms}"


def _connect_args(settings: Settings, options: str) -> dict[str, object]:
    """libpq's parameters: the timeouts that bound a silent network, on the client's side of it."""
    return {
        "options": options,
        "connect_timeout": settings.db_connect_timeout_s,
        "tcp_user_timeout": settings.db_tcp_user_timeout_ms,
        "keepalives": 1,
        "keepalives_idle": settings.tcp_keepalive_idle_s,
        "keepalives_interval": settings.tcp_keepalive_interval_s,
        "keepalives_count": settings.tcp_keepalive_count,
    }


def make_engine(settings: Settings) -> Engine:
    """An engine whose every connection starts on the configured schema.

    Nothing connects until the first query, so building an app connects to nothing. Every engine the
    app makes hides bound parameters from SQL errors: they are what users sent, and errors are logged.
    """
    engine = create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # No pre-ping (a round trip per checkout): app/liveness.py empties the pool on a lost connection.
        pool_timeout=settings.db_pool_timeout_s,
        connect_args=_connect_args(settings, _options(settings)),
        hide_parameters=True,
    )
    invalidate_pool_on_connection_loss(engine)
    return engine


def make_worker_engine(settings: Settings) -> Engine:
    """The ingestion jobs' engine: autocommit, and `synchronous_commit` as RETRACE_WORKER_SYNCHRONOUS_COMMIT.

    Every statement of a job is a conditional UPDATE or one SELECT, atomic alone, so autocommit drops the
    BEGIN and COMMIT round trips (7 per job to 3). No pre-ping either: a job that meets a connection
    dropped by a PostgreSQL restart fails, the whole pool is invalidated (app/liveness.py), and the
    broker redelivers the message to a fresh connection. Connects to nothing until a job runs, so a
    process that only enqueues (the API) never opens it.
    """
    options = _options(settings)
    if not settings.worker_synchronous_commit:
        options += " -c synchronous_commit=off"
    engine = create_engine(
        settings.sqlalchemy_url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.worker_threads,
        max_overflow=settings.worker_threads,
        pool_timeout=settings.db_pool_timeout_s,
        connect_args=_connect_args(settings, options),
        hide_parameters=True,
    )
    invalidate_pool_on_connection_loss(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def unreachable_reason(exc: DBAPIError) -> str:
    """The driver's first line (e.g. "connection refused"), without SQLAlchemy's wrapping."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
