"""Waiting, in PostgreSQL's own terms, until concurrent requests queue behind a lock a test holds.

A race becomes a deterministic test when the test holds a row lock, fires the requests, and moves on
only once PostgreSQL reports them waiting (directly or through each other) behind its connection.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, text

_BLOCKED = text("SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")


def backend_pid(connection: Connection) -> int:
    pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def blocked_behind(engine: Engine, holder: int) -> set[int]:
    """The backends waiting for `holder`, directly or behind another backend that waits for it."""
    with engine.connect() as conn:
        waits = {int(pid): {int(b) for b in blockers} for pid, blockers in conn.execute(_BLOCKED)}
    behind: set[int] = set()
    frontier = {holder}
    while frontier:
        frontier = {pid for pid, blockers in waits.items() if blockers & frontier and pid not in behind}
        behind |= frontier
    return behind


def wait_until_blocked(engine: Engine, holder: int, count: int, timeout_s: float = 15.0) -> None:
    """Return once `count` backends wait behind `holder`; fail with what was seen after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        behind = blocked_behind(engine, holder)
        if len(behind) >= count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(behind)} backend(s) waited behind pid {holder}, expected {count}")
        time.sleep(0.01)
