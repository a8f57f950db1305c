"""The PostgreSQL side of foreign mode: template and per-worker databases (or schemas), and their sweep.

Plain psycopg on an autocommit admin connection: CREATE/DROP DATABASE cannot run in a transaction, and
a foreign project brings psycopg anyway (SQLAlchemy is not assumed).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

# CREATE DATABASE ... TEMPLATE refuses to start while another session uses the template, and two xdist
# workers cloning at once are two such sessions: clones take turns under this advisory lock.
_CLONE_LOCK = zlib.crc32(b"lattice-foreign-clone")


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (same server, user and options)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def with_role(url: str, role: str, password: str) -> str:
    """`url` signing in as `role` (same server, database and options)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{f'[{host}]' if ':' in host else host}"
    return urlunsplit(
        (parts.scheme, netloc + (f":{parts.port}" if parts.port else ""), parts.path, parts.query, "")
    )


def libpq_url(url: str) -> str:
    """A URL psycopg accepts (SQLAlchemy-style driver suffixes removed)."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


@contextmanager
def admin(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        yield conn


def create_role(url: str, role: str, password: str, *, createdb: bool = False) -> None:
    """A login role of the run's own: what the suite creates is then found by its owner."""
    with admin(url) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN {} PASSWORD {}").format(
                sql.Identifier(role), sql.SQL("CREATEDB" if createdb else "NOCREATEDB"), sql.Literal(password)
            )
        )


def create_database(url: str, name: str, *, owner: str, template: str | None = None) -> None:
    with admin(url) as conn:
        statement = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
        if template is None:
            conn.execute(statement)
            return
        conn.execute("SELECT pg_advisory_lock(%s)", (_CLONE_LOCK,))
        try:
            conn.execute(statement + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_CLONE_LOCK,))


def create_schema(url: str, schema: str, *, owner: str) -> None:
    """`schema`, owned by `owner`, and first on `owner`'s search_path on the server side: every
    driver's connections get it (asyncpg ignores PGOPTIONS, a role's setting it cannot)."""
    with admin(url) as conn:
        conn.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(schema), sql.Identifier(owner))
        )
        conn.execute(
            sql.SQL("ALTER ROLE {} SET search_path = {}, public").format(
                sql.Identifier(owner), sql.Identifier(schema)
            )
        )


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


def roles_like(url: str, pattern: str) -> list[str]:
    with admin(url) as conn:
        rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)).fetchall()
    return sorted(str(row[0]) for row in rows)


@dataclass(frozen=True)
class Owned:
    """One object a role owns: its database ("" for a database itself), kind, schema and name."""

    database: str
    kind: str
    schema: str
    name: str

    def __str__(self) -> str:
        if self.kind == "database":
            return f"database {self.name}"
        where = f"{self.schema}." if self.schema else ""
        return f"{self.kind} {where}{self.name} in database {self.database}"


def _ownership(conn: psycopg.Connection[tuple[object, ...]], roles: list[str]) -> list[tuple[str, str, int]]:
    """(database, catalog, object id) of everything `roles` own: pg_shdepend is server-wide."""
    rows = conn.execute(
        "SELECT coalesce(d.datname, ''), s.classid::regclass::text, s.objid"
        " FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid"
        " LEFT JOIN pg_database d ON d.oid = s.dbid"
        " WHERE s.deptype = 'o' AND r.rolname = ANY(%s)",
        (roles,),
    ).fetchall()
    return [(str(db), str(cls), int(str(objid))) for db, cls, objid in rows]


def _database_names(conn: psycopg.Connection[tuple[object, ...]]) -> dict[int, str]:
    return {int(str(oid)): str(name) for oid, name in conn.execute("SELECT oid, datname FROM pg_database")}


def where_owned(url: str, roles: list[str]) -> tuple[list[str], list[str]]:
    """The databases `roles` own, and the other databases where they own something."""
    with admin(url) as conn:
        rows = _ownership(conn, roles)
        names = _database_names(conn)
    owned = sorted({names[objid] for _, cls, objid in rows if cls == "pg_database" and objid in names})
    holding = sorted({db for db, cls, _ in rows if cls != "pg_database"} - set(owned))
    return owned, holding


def owned_by(url: str, roles: list[str], *, ours: str) -> list[Owned]:
    """Everything on the server that `roles` own, in any database, but for the run's own: databases
    and schemas named `ours`..., and whatever is inside them."""
    if not roles:
        return []
    with admin(url) as conn:
        rows = _ownership(conn, roles)
        names = _database_names(conn)
    found = [Owned("", "database", "", names[objid]) for _, cls, objid in rows if cls == "pg_database"]
    by_database: dict[str, list[tuple[str, int]]] = {}
    for database, cls, objid in rows:
        if cls != "pg_database" and not database.startswith(ours):
            by_database.setdefault(database, []).append((cls, objid))
    for database, objects in sorted(by_database.items()):
        with admin(with_database(url, database)) as conn:
            for cls, objid in objects:
                row = conn.execute(
                    "SELECT type, coalesce(schema, ''), coalesce(name, identity)"
                    " FROM pg_identify_object(%s::regclass, %s, 0)",
                    (cls, objid),
                ).fetchone()
                if row is not None:
                    found.append(Owned(database, str(row[0]), str(row[1]), str(row[2])))
    left = [
        o for o in found if not (o.name if o.kind in ("database", "schema") else o.schema).startswith(ours)
    ]
    return sorted(set(left), key=str)


def drop_owned(url: str, roles: list[str], databases: list[str]) -> None:
    """What `roles` own in each of `databases`, then the roles themselves."""
    for database in databases:
        with admin(with_database(url, database)) as conn:
            for role in roles:
                conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
    with admin(url) as conn:
        for role in roles:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# Self-isolating suites name their databases themselves (`test_db_gw0`): two such runs on one server
# would share them. Their runs take turns on a server under this lock (an embedded server is the run's own).
SELF_LOCK = zlib.crc32(b"lattice-foreign-self")


def hold_lock(url: str, key: int, on_wait: Callable[[], None]) -> psycopg.Connection[tuple[object, ...]]:
    """A session advisory lock, waited for (after `on_wait()`) when taken; held until conn.close()."""
    conn = psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    if not (row and row[0]):
        on_wait()
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    return conn
