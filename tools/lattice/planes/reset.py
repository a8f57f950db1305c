"""The per-test reset, derived from the database itself: back to a snapshot, touching only what changed.

`snapshot()` copies every table of the connection's schema into a session-local (pg_temp) twin and reads
the foreign-key graph and primary keys from the catalog; it then writes one pg_temp function that, in one
round trip, finds the tables whose rows differ from their twin and puts back exactly the snapshot:
rows added are deleted (children first), rows changed are updated, rows deleted are inserted again
(parents first). Nothing here names an application's tables: the rows that survive a reset are whatever
the schema held at the snapshot (a worker's signed-in accounts). pg_temp keeps all of it out of the
schema, so the migration guard never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from sqlalchemy import Connection, Engine, text


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[str, ...]  # the insertable ones (no generated columns)
    primary_key: tuple[str, ...]  # empty: the table is put back whole
    identity: bool  # has an identity column: inserts must override it

    @property
    def twin(self) -> str:
        return _quote(f"lattice_snapshot_{self.name}")


@dataclass
class ResetResult:
    touched: list[str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_tables(conn: Connection) -> list[TableShape]:
    """The schema's tables (of `current_schema()`), parents before children."""
    rows = conn.execute(
        text(
            """
            SELECT c.relname,
                   array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attgenerated = ''),
                   bool_or(a.attidentity <> '')
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
            GROUP BY c.relname
            """
        )
    ).all()
    keys: dict[str, list[str]] = dict(
        conn.execute(
            text(
                """
                SELECT c.relname, array_agg(a.attname ORDER BY a.attnum)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace
                GROUP BY c.relname
                """
            )
        ).all()
    )
    edges = conn.execute(
        text(
            """
            SELECT child.relname, parent.relname FROM pg_constraint k
            JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
            WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace
            """
        )
    ).all()
    shapes = {
        name: TableShape(name, tuple(columns), tuple(keys.get(name, ())), bool(identity))
        for name, columns, identity in rows
    }
    graph: dict[str, set[str]] = {name: set() for name in shapes}
    for child, parent in edges:
        if child != parent and child in graph and parent in shapes:
            graph[child].add(parent)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:  # mutually referencing tables: any order, the constraints decide at run time
        order = sorted(shapes)
    return [shapes[name] for name in order]


def _differs(table: TableShape, rows: int) -> str:
    """True when the table's rows are not its twin's. Empty at the snapshot (most tables): any row."""
    t, s = _quote(table.name), table.twin
    if rows == 0:
        return f"EXISTS (SELECT 1 FROM {t})"
    # As many rows, none outside the twin: the same rows (a key makes them distinct).
    return (
        f"(SELECT count(*) FROM {t}) <> {rows} "
        f"OR EXISTS (SELECT t::text FROM {t} t EXCEPT SELECT s::text FROM pg_temp.{s} s)"
    )


def _remove_added(table: TableShape, rows: int) -> str:
    t, s = _quote(table.name), table.twin
    if not table.primary_key or rows == 0:
        return f"DELETE FROM {t};"
    key = ", ".join(_quote(c) for c in table.primary_key)
    return f"DELETE FROM {t} WHERE ({key}) NOT IN (SELECT {key} FROM pg_temp.{s});"


def _restore(table: TableShape, rows: int) -> str:
    t, s = _quote(table.name), table.twin
    if rows == 0:
        return "NULL;"  # nothing to put back
    columns = ", ".join(_quote(c) for c in table.columns)
    override = " OVERRIDING SYSTEM VALUE" if table.identity else ""
    if not table.primary_key:
        return f"INSERT INTO {t} ({columns}){override} SELECT {columns} FROM pg_temp.{s};"
    same_key = " AND ".join(f"t.{_quote(c)} = s.{_quote(c)}" for c in table.primary_key)
    statements = []
    others = [c for c in table.columns if c not in table.primary_key]
    if others:
        targets = ", ".join(_quote(c) for c in others)
        values = ", ".join(f"s.{_quote(c)}" for c in others)
        single = len(others) == 1  # `SET (a) = (x)` needs ROW for one column
        assignment = f"{targets} = {values}" if single else f"({targets}) = ({values})"
        statements.append(
            f"UPDATE {t} t SET {assignment} FROM pg_temp.{s} s WHERE {same_key} AND t::text <> s::text;"
        )
    selected = ", ".join(f"s.{_quote(c)}" for c in table.columns)
    statements.append(
        f"INSERT INTO {t} ({columns}){override} SELECT {selected} FROM pg_temp.{s} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {same_key});"
    )
    return "\n    ".join(statements)


def reset_function(tables: list[TableShape], rows: dict[str, int]) -> str:
    """The pg_temp function that puts the schema back to its snapshot (`rows` per table), returning the
    tables it touched."""
    marks: list[str] = []
    removals: list[str] = []
    restores: list[str] = []
    for table in tables:
        name, count = _literal(table.name), rows[table.name]
        marks.append(f"IF {_differs(table, count)} THEN touched := touched || {name}::text; END IF;")
        # Added rows go children first, missing ones come back parents first.
        removals.insert(0, f"IF {name} = ANY(touched) THEN {_remove_added(table, count)} END IF;")
        restores.append(f"IF {name} = ANY(touched) THEN\n    {_restore(table, count)}\n  END IF;")
    body = "\n  ".join([*marks, *removals, *restores])
    return f"""
CREATE OR REPLACE FUNCTION pg_temp.lattice_reset() RETURNS text[] LANGUAGE plpgsql AS $fn$
DECLARE touched text[] := '{{}}';
BEGIN
  {body}
  RETURN touched;
END
$fn$
"""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Resetter:
    """Per-test cleaning of one schema over a connection of its own, in autocommit."""

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.tables: list[TableShape] = []

    def snapshot(self) -> None:
        """What the schema holds now is what every reset puts back."""
        self.tables = read_tables(self._conn)
        # Statement by statement (autocommit): nothing else writes to the schema while it is taken.
        for table in self.tables:
            self._conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{table.twin}")
            self._conn.exec_driver_sql(f"CREATE TEMP TABLE {table.twin} AS TABLE {_quote(table.name)}")
        rows = {
            table.name: int(
                self._conn.exec_driver_sql(f"SELECT count(*) FROM pg_temp.{table.twin}").scalar_one()
            )
            for table in self.tables
        }
        self._conn.exec_driver_sql(reset_function(self.tables, rows))

    def reset(self) -> ResetResult:
        """Put back the snapshot, touching only the tables whose rows differ from it."""
        touched = self._conn.execute(text("SELECT pg_temp.lattice_reset()")).scalar_one()
        return ResetResult(list(touched))

    def truncate_all(self) -> None:
        """The blunt reset the per-test one is measured against (tests/perf/bench_harness.py)."""
        names = ", ".join(_quote(table.name) for table in self.tables)
        self._conn.execute(text(f"TRUNCATE {names} CASCADE"))

    def close(self) -> None:
        self._conn.close()
