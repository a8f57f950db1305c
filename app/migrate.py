"""Migrations: bring a schema to head, and tell whether the models and the migrations disagree."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers the tables on SQLModel.metadata
from app.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def upgrade(engine: Engine, settings: Settings) -> None:
    """Create the schema if needed and migrate it to head, in one transaction."""
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.db_schema}"'))
        conn.execute(text(f'SET LOCAL search_path TO "{settings.db_schema}"'))
        command.upgrade(alembic_config(conn, settings.db_schema), "head")


def not_alembic_bookkeeping(name: str | None, type_: str, *_: Any) -> bool:
    return not (type_ == "table" and name == "alembic_version")


def pending_changes(conn: Connection) -> list[Any]:
    """What autogenerate would add on this connection's schema: empty when migrations match the models."""
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_name": not_alembic_bookkeeping}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def upgrade_sql() -> str:
    """The migrations to head as plain SQL, schema-agnostic (for cloning schemas quickly)."""
    buffer = io.StringIO()
    config = alembic_config(None, "")
    config.attributes["output_buffer"] = buffer
    command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


def new_revision(engine: Engine, settings: Settings, message: str) -> None:
    """Autogenerate a revision file from the models (a developer command)."""
    with engine.begin() as conn:
        command.revision(alembic_config(conn, settings.db_schema), message=message, autogenerate=True)
