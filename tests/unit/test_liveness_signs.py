"""What counts as a lost database connection (the pool is emptied on it): a disconnect SQLSTATE, an
already invalidated connection, or a DBAPI connection that is closed or broken. Pure logic on the
exception context's shape."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from app.liveness import is_connection_lost


class _Invalidated:
    closed = False

    @property
    def connection(self) -> Any:
        raise RuntimeError("already invalidated")


def _context(raw: object | None = None, *, sqlstate: str = "", connection: object | None = None) -> Any:
    if connection is None:
        connection = SimpleNamespace(closed=False, connection=SimpleNamespace(dbapi_connection=raw))
    return SimpleNamespace(original_exception=SimpleNamespace(sqlstate=sqlstate), connection=connection)


@pytest.mark.parametrize(
    ("context", "lost"),
    [
        pytest.param(_context(sqlstate="08006"), True, id="connection-failure-sqlstate"),
        pytest.param(_context(SimpleNamespace(closed=True, broken=False)), True, id="raw-closed"),
        pytest.param(_context(SimpleNamespace(closed=False, broken=True)), True, id="raw-broken"),
        pytest.param(_context(SimpleNamespace(closed=False, broken=False)), False, id="raw-healthy"),
        pytest.param(_context(connection=_Invalidated()), True, id="already-invalidated"),
        pytest.param(_context(sqlstate="23505"), False, id="unique-violation-is-not-a-disconnect"),
    ],
)
def test_connection_lost(context: Any, lost: bool) -> None:
    assert is_connection_lost(context) is lost
