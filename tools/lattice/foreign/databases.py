"""The PostgreSQL side of foreign mode: template and per-worker databases (or schemas), and their sweep.

Plain psycopg on an autocommit admin connection: CREATE/DROP DATABASE cannot run in a transaction, and
a foreign project brings psycopg anyway (SQLAlchemy is not assumed).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# CREATE DATABASE ... TEMPLATE refuses to start while another session uses the template, and two xdist
# workers cloning at once are two such sessions: clones take turns under this advisory lock.
_CLONE_LOCK = zlib.crc32(b"lattice-foreign-clone")


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (same server, user and options)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def libpq_url(url: str) -> str:
    """A URL psycopg accepts (SQLAlchemy-style driver suffixes removed)."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


@contextmanager
def admin(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        yield conn


def create_database(url: str, name: str, *, template: str | None = None) -> None:
    with admin(url) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is None:
            conn.execute(statement)
            return
        conn.execute("SELECT pg_advisory_lock(%s)", (_CLONE_LOCK,))
        try:
            conn.execute(statement + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_CLONE_LOCK,))


def create_schema(url: str, schema: str) -> None:
    with admin(url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def create_extensions(url: str, extensions: list[str]) -> None:
    with admin(url) as conn:
        for extension in extensions:
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(extension))
            )


def databases_like(url: str, pattern: str) -> list[str]:
    with admin(url) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall()
    return sorted(str(row[0]) for row in rows)


def schemas_like(url: str, pattern: str) -> list[str]:
    with admin(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (pattern,)).fetchall()
    return sorted(str(row[0]) for row in rows)


def drop_databases(url: str, names: list[str]) -> None:
    """Drop each (FORCE: a worker killed mid-test may leave a connection behind)."""
    with admin(url) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_schemas(url: str, names: list[str]) -> None:
    with admin(url) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
