"""Every bounded text column has the same length in the models as in the migrated schema. The
models-vs-migrations guard (Alembic's autogenerate) does not see a length the models dropped: a
VARCHAR without a length compares equal to any VARCHAR(n)."""

from __future__ import annotations

from sqlalchemy import String, text
from sqlmodel import Session, SQLModel
from sqlmodel.sql.sqltypes import AutoString

import app.models  # noqa: F401 - registers the tables


def test_text_column_lengths_match_the_migrations(db: Session) -> None:
    migrated = {
        (table, column): length
        for table, column, length in db.execute(
            text(
                "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type = 'character varying'"
            )
        )
    }
    modelled = {
        (table.name, column.name): column.type.length
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, String | AutoString) and (table.name, column.name) in migrated
    }
    of_models = {key: length for key, length in migrated.items() if key[0] in SQLModel.metadata.tables}
    assert modelled.keys() == of_models.keys(), "a VARCHAR column the models do not type as text"
    assert modelled == of_models
