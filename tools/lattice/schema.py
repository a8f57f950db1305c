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

from tools.lattice.targeting import load_target

_SCHEMA = re.compile(r"^test_w\d+_([0-9a-f]{12})$")


@cache
def migration_sql() -> str:
    """The Alembic migrations rendered once per process as plain SQL, minus transaction control."""
    rendered = load_target().migration_sql().splitlines()
    lines = [ln for ln in rendered if ln.strip().upper() not in ("BEGIN;", "COMMIT;")]
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


TABLES = ("users", "otp_challenges", "tokens", "marks", "attachments", "ingestions")


@dataclass
class Keep:
    """Rows that live for the whole worker (its signed-in accounts); everything else is per test."""

    users: list[uuid.UUID]
    tokens: list[uuid.UUID]


# One round trip per reset: a session-local (pg_temp) function finds the touched tables and cleans
# only those, in FK order (cascades take attachments and ingestions with their marks). pg_temp keeps
# it out of the schema, so the migration guard never sees it.
_RESET_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.lattice_reset(keep_users uuid[], keep_tokens uuid[])
RETURNS text[] LANGUAGE plpgsql AS $fn$
DECLARE touched text[] := '{}';
BEGIN
  IF EXISTS (SELECT 1 FROM users WHERE id <> ALL(keep_users) OR display_name IS NOT NULL) THEN
    DELETE FROM users WHERE id <> ALL(keep_users);
    UPDATE users SET display_name = NULL WHERE display_name IS NOT NULL;
    touched := touched || 'users'::text;
  END IF;
  IF EXISTS (SELECT 1 FROM marks) THEN
    DELETE FROM marks;
    touched := touched || 'marks'::text;
  END IF;
  IF EXISTS (SELECT 1 FROM tokens WHERE id <> ALL(keep_tokens) OR revoked_at IS NOT NULL) THEN
    DELETE FROM tokens WHERE id <> ALL(keep_tokens);
    UPDATE tokens SET revoked_at = NULL WHERE revoked_at IS NOT NULL;
    touched := touched || 'tokens'::text;
  END IF;
  IF EXISTS (SELECT 1 FROM otp_challenges) THEN
    DELETE FROM otp_challenges;
    touched := touched || 'otp_challenges'::text;
  END IF;
  IF (SELECT count(*) FROM users WHERE id = ANY(keep_users)) < cardinality(keep_users) THEN
    touched := touched || 'accounts_lost'::text;
  END IF;
  RETURN touched;
END
$fn$
"""


@dataclass
class ResetResult:
    touched: list[str]
    accounts_intact: bool


class Resetter:
    """Per-test cleaning of one worker schema over a connection of its own, in autocommit."""

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn.exec_driver_sql(_RESET_FUNCTION)

    def reset(self, keep: Keep) -> ResetResult:
        """Delete what the test added, touching only the tables that changed."""
        touched = list(
            self._conn.execute(
                text("SELECT pg_temp.lattice_reset(CAST(:users AS uuid[]), CAST(:tokens AS uuid[]))"),
                {"users": keep.users, "tokens": keep.tokens},
            ).scalar_one()
        )
        lost = "accounts_lost" in touched
        return ResetResult([t for t in touched if t != "accounts_lost"], accounts_intact=not lost)

    def truncate_all(self) -> None:
        """The blunt reset the per-test one is measured against (tests/perf/bench_harness.py)."""
        self._conn.execute(
            text("TRUNCATE users, otp_challenges, tokens, marks, attachments, ingestions CASCADE")
        )

    def close(self) -> None:
        self._conn.close()


def models_match_migrations(engine: Engine) -> list[str]:
    """Migrate a throwaway schema inside a transaction that is rolled back, and diff it with the models."""
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(text('CREATE SCHEMA "lattice_guard"'))
        conn.execute(text('SET LOCAL search_path TO "lattice_guard"'))
        conn.exec_driver_sql(migration_sql())
        diff = load_target().pending_changes(conn)
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
