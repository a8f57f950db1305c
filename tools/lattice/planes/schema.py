"""The PostgreSQL plane: per-worker schemas built from the migrations, found by run, dropped, guarded.

The per-test reset is tools/lattice/planes/reset.py."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, text

from tools.lattice.seam.targeting import load_target

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
