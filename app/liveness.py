"""Pool liveness without a pre-ping: a connection error empties the pool, so the next request reconnects.

A pre-ping costs one round trip on every checkout, on every request, to catch the rare connection a
PostgreSQL restart left dead. Instead, the statement that meets such a connection fails (the request
gets its 503 problem, as it would while the server is down) and this hook marks the error a disconnect:
SQLAlchemy then invalidates that connection and every connection pooled before it, and the next
checkout opens a fresh one. psycopg reports a server-side termination in more ways than SQLAlchemy's
message list knows ("terminating connection due to administrator command", a closed or broken
connection), hence the checks on the connection's state and on the SQLSTATE classes 08 (connection
exception) and 57 (operator intervention).
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

_DISCONNECT_SQLSTATE_CLASSES = ("08", "57")


def is_connection_lost(context: ExceptionContext) -> bool:
    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None) or ""
    if sqlstate[:2] in _DISCONNECT_SQLSTATE_CLASSES:
        return True
    connection = context.connection
    try:
        raw = None if connection is None or connection.closed else connection.connection.dbapi_connection
    except Exception:  # an already invalidated connection has no DBAPI connection to look at
        return True
    return bool(raw is not None and (getattr(raw, "closed", False) or getattr(raw, "broken", False)))


def invalidate_pool_on_connection_loss(engine: Engine) -> None:
    """Install the hook on `engine` (every engine the service builds)."""

    @event.listens_for(engine, "handle_error")
    def _mark_disconnect(context: ExceptionContext) -> None:
        if not context.is_disconnect and is_connection_lost(context):
            context.is_disconnect = True
