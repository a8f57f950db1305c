"""What the lattice needs to know about the application under test: one typed seam.

The lattice's plumbing asks these questions instead of importing the app, so another project adopts the
lattice by writing one module that answers them and naming it in `[tool.lattice] target` (pyproject.toml).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class Target(Protocol):
    """The application under test, as the lattice sees it."""

    def sqlalchemy_url(self, database_url: str) -> str:
        """The SQLAlchemy URL (driver included) the app would use for this plain `postgresql://` URL."""
        ...

    def migration_sql(self) -> str:
        """The migrations to head as plain, schema-agnostic SQL (the plane's template is built from it)."""
        ...

    def pending_changes(self, conn: Connection) -> list[Any]:
        """What the models have that the migrated schema on `conn` lacks: empty when they match."""
        ...

    def unreachable_reason(self, exc: DBAPIError) -> str:
        """One line saying why the database did not answer (the driver's own words)."""
        ...

    def revision_hint(self) -> str:
        """The command a developer runs to write the missing migration."""
        ...
