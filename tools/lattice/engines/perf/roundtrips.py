"""The deterministic perf sentinel: SQL statements and Redis commands per operation, counted exactly.

A timed gate catches an N+1 query only on a quiet machine; a count catches it on any. `RoundTrips`
counts, while its block runs, every statement SQLAlchemy sends on the runtime's engines (plus every
COMMIT and ROLLBACK, which are round trips too) and every command the broker's Redis client sends.
tests/integration/test_round_trips.py compares the counts with the committed table perf/statements.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event

TABLE = Path("perf/statements.json")
# Set to 1 to rewrite TABLE from this run's counts (after a change that lowered them, on purpose).
WRITE_ENV = "LATTICE_STATEMENTS_WRITE"

Counts = dict[str, dict[str, int]]


@dataclass
class Tally:
    sql: int = 0
    redis: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sql": self.sql, "redis": self.redis}


@contextmanager
def counting(runtime: Any) -> Iterator[Tally]:
    """Count the runtime's SQL round trips and broker Redis commands made inside the block."""
    tally = Tally()

    def on_statement(*_: Any) -> None:
        tally.sql += 1

    def on_end(conn: Connection) -> None:
        # Under autocommit (the read engine) the driver sends no COMMIT or ROLLBACK.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            tally.sql += 1

    # COMMIT and ROLLBACK are round trips on the request engine; on the worker's (autocommit) they are
    # not sent, so only its statements count.
    hooks: list[tuple[Engine, str, Callable[..., None]]] = [
        (runtime.engine, "before_cursor_execute", on_statement),
        (runtime.engine, "commit", on_end),
        (runtime.engine, "rollback", on_end),
        (runtime.worker_engine, "before_cursor_execute", on_statement),
    ]
    for engine, hook, listener in hooks:
        event.listen(engine, hook, listener)
    client = runtime.ingestion.broker.client
    original = client.execute_command

    def counted(*args: Any, **kwargs: Any) -> Any:
        tally.redis += 1
        return original(*args, **kwargs)

    client.execute_command = counted
    try:
        yield tally
    finally:
        del client.execute_command  # the instance attribute goes; the class's method shows again
        for engine, hook, listener in hooks:
            event.remove(engine, hook, listener)


def load_table(path: Path = TABLE) -> Counts:
    if not path.is_file():
        return {}
    table: Counts = json.loads(path.read_text())
    return table


def write_table(counts: Counts, path: Path = TABLE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
