"""Alembic environment: runs on the connection app.migrate hands it, on that connection's schema.

Offline (`sql=True`) it renders plain SQL with unqualified names, which the lattice replays into each
test worker's schema: migrated once, cloned many times.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers the tables on SQLModel.metadata
from app.migrate import not_alembic_bookkeeping

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="postgresql",
        target_metadata=SQLModel.metadata,
        literal_binds=True,
        transactional_ddl=False,
        output_buffer=config.attributes.get("output_buffer"),
    )
else:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through `retrace migrate` (app.migrate), which supplies the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # Unqualified names land in the schema of the connection's search_path; the version table too.
        version_table_schema=config.attributes["schema"],
        compare_type=True,
        include_name=not_alembic_bookkeeping,
    )
with context.begin_transaction():
    context.run_migrations()
