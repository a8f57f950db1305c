"""The migrations both ways: one head, and every revision's downgrade undoes its upgrade exactly (the
"stairway": up, down, up again, one revision at a time from base to head), on the real PostgreSQL.

The models-vs-migrations guard (Alembic's autogenerate diff, run once per lattice run before any test)
stays where it is: tools/lattice/planes/schema.py. This checks what it cannot: that a revision can be undone.
Everything runs in one transaction that is rolled back, so a killed run leaves no schema behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from app.migrate import alembic_config, pending_changes

# Tables, columns (type, nullability, default), constraints and indexes: what a migration changes.
_SHAPE = """
SELECT 'column', c.table_name || '.' || c.column_name,
       concat_ws(' ', c.data_type, c.character_maximum_length, c.is_nullable, c.column_default)
  FROM information_schema.columns c WHERE c.table_schema = :schema
UNION ALL
SELECT 'constraint', t.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = :schema
UNION ALL
SELECT 'index', i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = :schema
UNION ALL
SELECT 'version', version_num, '' FROM alembic_version
ORDER BY 1, 2, 3
"""


def _shape(conn: Connection, schema: str) -> list[tuple[Any, ...]]:
    exists = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar_one()
    query = _SHAPE if exists else _SHAPE.rsplit("UNION ALL", 1)[0] + "ORDER BY 1, 2, 3"
    rows = [tuple(row) for row in conn.execute(text(query), {"schema": schema})]
    # Alembic's bookkeeping table stays after a downgrade to base (empty): its row is compared, not it.
    return [row for row in rows if row[0] == "version" or not str(row[1]).startswith("alembic_version")]


@pytest.fixture
def scratch(settings: Any) -> Iterator[tuple[Connection, str]]:
    """An empty schema of this worker's, inside a transaction that is rolled back."""
    schema = f"{settings.db_schema}_stairway"
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            yield conn, schema
            transaction.rollback()
    finally:
        engine.dispose()


def test_the_migrations_have_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config(None, "")).get_heads()
    assert len(heads) == 1, f"two branches of migrations: merge them (alembic merge) — heads {heads}"


def test_every_revision_downgrades_to_what_it_upgraded_from(scratch: tuple[Connection, str]) -> None:
    conn, schema = scratch
    config = alembic_config(conn, schema)
    revisions = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    assert revisions, "no migrations found"
    for revision in revisions:
        before = _shape(conn, schema)
        command.upgrade(config, revision.revision)
        after = _shape(conn, schema)
        assert after != before, f"{revision.revision} upgrades to nothing new"
        command.downgrade(config, str(revision.down_revision or "base"))
        assert _shape(conn, schema) == before, f"{revision.revision}'s downgrade leaves a different schema"
        command.upgrade(config, revision.revision)
        assert _shape(conn, schema) == after, f"{revision.revision} upgrades differently the second time"
    # At head, through Alembic's own commands (not the lattice's rendered SQL): the models agree.
    assert pending_changes(conn) == []


def test_a_column_whose_type_differs_from_the_models_is_pending(scratch: tuple[Connection, str]) -> None:
    """The guard compares types too (a migration that made `note` a varchar would otherwise pass it)."""
    conn, schema = scratch
    command.upgrade(alembic_config(conn, schema), "head")
    assert pending_changes(conn) == []
    conn.execute(text("ALTER TABLE marks ALTER COLUMN note TYPE varchar(40)"))
    changes = [
        change
        for group in pending_changes(conn)
        for change in (group if isinstance(group, list) else [group])
    ]
    assert [(c[0], c[2], c[3]) for c in changes] == [("modify_type", "marks", "note")], changes
