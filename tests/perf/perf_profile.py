"""`--profile`: where the time of GET /v1/marks/{id}, token-auth GET /v1/me and the list goes.

A second API process on the same settings plus `RETRACE_SPANS_PATH` (app/spans.py: the app writes one
line of spans per request; it knows nothing of this suite) runs under the same wrk load as the
benchmarks (2 threads, 8 connections). Per operation this prints and records under `profile` in
logs/perf.json: each span's mean in ms, the client's mean latency and what of it the app did not see
(the kernel, the socket, wrk), the API's and PostgreSQL's CPU ms per request, and pg_stat_statements'
statements per request with their mean execution time, when the server preloads the extension (the
embedded one does, tracking nothing until this turns it on for its role; a server that does not is named).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.settings import Settings
from tests.perf.conftest import Figures, seed_marks
from tools.lattice.engines.perf.cpu import fixed, postgres_pids
from tools.lattice.engines.perf.profile import ORDER, profile_table
from tools.lattice.engines.perf.wrk import run_wrk, wrk_path
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

IDS = 2000
DURATION_S = 4.0
SPANS = Path("logs/perf/spans.jsonl").resolve()


class StatStatements:
    """pg_stat_statements around one operation's batch, or why it cannot be read on this server."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.missing: str | None = None
        try:
            with self.engine.connect() as connection:
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public"))
                # Per role, which beats the server's command line (track=none); new connections only,
                # and the profiled API's pool connects after this, on its warm-up.
                connection.execute(text("ALTER ROLE CURRENT_USER SET pg_stat_statements.track = 'top'"))
                connection.execute(text("SELECT count(*) FROM public.pg_stat_statements"))
        except DBAPIError as exc:
            self.missing = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)

    def reset(self) -> None:
        if self.missing is None:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT public.pg_stat_statements_reset()"))

    def per_request(self, requests: int) -> list[dict[str, Any]]:
        if self.missing is not None or not requests:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT query, calls, total_exec_time, rows FROM public.pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND calls >= :least ORDER BY total_exec_time DESC LIMIT 5"
                ),
                {"least": max(1, requests // 2)},
            ).all()
        return [
            {
                "statement": " ".join(query.split())[:90],
                "calls_per_request": round(calls / requests, 2),
                "mean_exec_ms": round(total / calls, 4),
                "rows_per_call": round(n / calls, 1),
            }
            for query, calls, total, n in rows
        ]

    def close(self) -> None:
        if self.missing is None:
            with self.engine.connect() as connection:
                connection.execute(text("ALTER ROLE CURRENT_USER RESET pg_stat_statements.track"))


@pytest.fixture(scope="module")
def statements(lattice: WorkerLattice) -> Iterator[StatStatements]:
    """Turned on before the profiled API starts, so every connection of its pool is tracked."""
    tracked = StatStatements(lattice.engine)
    try:
        yield tracked
    finally:
        tracked.close()


@pytest.fixture(scope="module")
def profiled(perf_settings: Settings, statements: StatStatements) -> Iterator[LiveStack]:
    SPANS.unlink(missing_ok=True)
    settings = perf_settings.model_copy(update={"spans_path": SPANS})
    with start_live_stack(settings, Path("logs/perf/profile"), with_worker=False) as live:
        yield live


def _spans(route: str) -> dict[str, float]:
    records = [json.loads(line) for line in SPANS.read_text().splitlines() if line]
    mine = [r for r in records if r.get("route") == route]
    assert mine, f"no spans for {route} in {SPANS}"
    return {
        name: round(statistics.fmean(r.get(name, 0.0) for r in mine), 4)
        for name in ORDER
        if any(name in r for r in mine)
    } | {"requests_seen": len(mine)}


def test_profile(
    profiled: LiveStack,
    statements: StatStatements,
    perf_user: SignedInUser,
    lattice: WorkerLattice,
    figures: Figures,
    scale: float,
) -> None:
    wrk_path()
    ids = [str(i) for i in seed_marks(lattice.engine, perf_user.id, IDS, label="profile")]
    duration = max(1.0, DURATION_S * scale)
    operations = {
        "marks-get": ("/v1/marks/{mark_id}", [f"/v1/marks/{i}" for i in ids], perf_user.headers),
        "token-auth": ("/v1/me", ["/v1/me"], perf_user.api_headers),
        "marks-list": ("/v1/marks", ["/v1/marks?limit=20"], perf_user.headers),
    }
    cpu = {"api": fixed(profiled.processes["api"].pid), "postgres": postgres_pids(lattice.engine)}
    profile: dict[str, Any] = figures.setdefault("profile", {})
    for name, (route, paths, headers) in operations.items():
        script = Path(f"logs/perf/wrk/profile-{name}.lua")
        run_wrk(profiled.base_url, paths, script=script, headers=headers, duration_s=1)  # warm-up
        SPANS.write_text("")
        statements.reset()
        result = run_wrk(
            profiled.base_url, paths, script=script, headers=headers, duration_s=duration, cpu=cpu
        )
        assert result.errors == 0, f"{name}: {result.errors} of {result.requests} answers were errors"
        spans = _spans(route)
        profile[name] = {
            "requests": result.requests,
            "rps": result.rps,
            "client_mean_ms": round(result.mean_ms, 3),
            "client_p95_ms": result.p95_ms,
            "spans_ms": spans,
            "cpu_ms": result.cpu_ms,
            "statements": statements.per_request(result.requests),
            "machine_busy": result.machine_busy,
        }
    profile["pg_stat_statements"] = (
        statements.missing or "available (preloaded; track=top for this profile's connections)"
    )
    for line in profile_table(profile):
        print(line)
