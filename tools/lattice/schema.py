"""The PostgreSQL plane: per-worker schemas cloned from the migrations, reset between tests, reaped."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.migrate import pending_changes, upgrade_sql

_SCHEMA = re.compile(r"^test_w\d+_([0-9a-f]{12})$")


@cache
def migration_sql() -> str:
    """The Alembic migrations rendered once per process as plain SQL, minus transaction control."""
    lines = [ln for ln in upgrade_sql().splitlines() if ln.strip().upper() not in ("BEGIN;", "COMMIT;")]
    return "\n".join(lines)


def create_schema(engine: Engine, schema: str) -> float:
    """Create `schema` at migration head; returns the seconds it took."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        conn.exec_driver_sql(migration_sql())
    return time.perf_counter() - started


def drop_schemas(conn: Connection, schemas: Sequence[str]) -> None:
    for schema in schemas:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def schemas_of_runs(conn: Connection) -> dict[str, list[str]]:
    """Every lattice worker schema in the database, by run id."""
    found: dict[str, list[str]] = {}
    for (name,) in conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_w%'")):
        match = _SCHEMA.match(name)
        if match:
            found.setdefault(match.group(1), []).append(name)
    return found


@dataclass
class Keep:
    """Rows that live for the whole worker (its signed-in accounts); everything else is per test."""

    users: list[uuid.UUID]
    tokens: list[uuid.UUID]


_TOUCHED = text(
    """
    SELECT
      EXISTS (SELECT 1 FROM users WHERE id <> ALL(:users) OR display_name IS NOT NULL),
      EXISTS (SELECT 1 FROM marks),
      EXISTS (SELECT 1 FROM tokens WHERE id <> ALL(:tokens) OR revoked_at IS NOT NULL),
      EXISTS (SELECT 1 FROM otp_challenges),
      (SELECT count(*) FROM users WHERE id = ANY(:users))
    """
)


@dataclass
class ResetResult:
    touched: list[str]
    accounts_intact: bool


def reset(engine: Engine, keep: Keep) -> ResetResult:
    """Delete what the test added, touching only tables that changed.

    One query finds the touched tables; the deletes run in FK order (cascades take attachments and
    ingestions with their marks). Measured against TRUNCATE of every table in tests/perf.
    """
    params = {"users": keep.users, "tokens": keep.tokens}
    with engine.begin() as conn:
        users, marks, tokens, challenges, kept_users = conn.execute(_TOUCHED, params).one()
        touched = []
        if users:
            conn.execute(text("DELETE FROM users WHERE id <> ALL(:users)"), params)
            conn.execute(text("UPDATE users SET display_name = NULL WHERE display_name IS NOT NULL"))
            touched.append("users")
        if marks:
            conn.execute(text("DELETE FROM marks"))
            touched.append("marks")
        if tokens:
            conn.execute(text("DELETE FROM tokens WHERE id <> ALL(:tokens)"), params)
            conn.execute(text("UPDATE tokens SET revoked_at = NULL WHERE revoked_at IS NOT NULL"))
            touched.append("tokens")
        if challenges:
            conn.execute(text("DELETE FROM otp_challenges"))
            touched.append("otp_challenges")
    return ResetResult(touched, accounts_intact=kept_users == len(keep.users))


def models_match_migrations(engine: Engine) -> list[str]:
    """Migrate a throwaway schema inside a transaction that is rolled back, and diff it with the models."""
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(text('CREATE SCHEMA "lattice_guard"'))
        conn.execute(text('SET LOCAL search_path TO "lattice_guard"'))
        conn.exec_driver_sql(migration_sql())
        diff = pending_changes(conn)
        transaction.rollback()
    return [_describe(change) for change in diff]


def _describe(change: Any) -> str:
    """`add_column users.nickname` rather than a tuple of SQLAlchemy objects."""
    if isinstance(change, list):  # modify_* changes come grouped per column
        return ", ".join(_describe(item) for item in change)
    op, *rest = change
    if op.startswith("modify_"):  # (op, schema, table, column, ...)
        return f"{op} {rest[1]}.{rest[2]}"
    if op in ("add_column", "remove_column"):  # (op, schema, table, Column)
        return f"{op} {rest[1]}.{rest[2].name}"
    target = rest[0]
    return f"{op} {getattr(target, 'name', target)}"


def truncate_all(engine: Engine) -> None:
    """The blunt reset the per-test one is measured against."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE users, otp_challenges, tokens, marks, attachments, ingestions CASCADE"))
