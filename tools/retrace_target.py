"""Retrace as the lattice's target: the one place where the lattice's questions meet `app`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from app.db import unreachable_reason
from app.migrate import pending_changes, upgrade_sql
from app.settings import Settings


class RetraceTarget:
    def sqlalchemy_url(self, database_url: str) -> str:
        return Settings(database_url=database_url).sqlalchemy_url

    def migration_sql(self) -> str:
        return upgrade_sql()

    def pending_changes(self, conn: Connection) -> list[Any]:
        return pending_changes(conn)

    def unreachable_reason(self, exc: DBAPIError) -> str:
        return unreachable_reason(exc)

    def revision_hint(self) -> str:
        return "retrace revision -m '<what changed>'"


TARGET = RetraceTarget()
