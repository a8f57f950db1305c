"""The capacity model: per operation, CPU ms in the API process, the worker and PostgreSQL, and round trips.

Read from a perf run's figures (the wrk runs and the ingestion batch measure each process's CPU time from
/proc, tools/lattice/engines/perf/cpu.py) and the committed round-trip table (perf/statements.json).
From them: how many requests (or jobs) per second one core of each process serves, so how many API and
worker processes a rate needs and where PostgreSQL's cores run out. A Python process runs its handlers on
one core at a time (the GIL), so one API or worker process is at most one core, and it is planned at
`UTILISATION` of it, with the rest for bursts and the collector.
"""

from __future__ import annotations

import math
from typing import Any

from tools.lattice.engines.perf.roundtrips import load_table

UTILISATION = 0.7

# perf figure name -> the operation's row in perf/statements.json
OPERATIONS = {
    "marks-get": "get-mark (session token)",
    "token-auth": "get-me (API token)",
    "marks-list": "list-marks (page of 20)",
    "floor-get": None,
}


def model(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per operation: CPU ms per request (or job) in each process, round trips, and one core's rate."""
    trips = load_table()
    rows: dict[str, dict[str, Any]] = {}
    for name, statement_row in OPERATIONS.items():
        wrk = figures.get("wrk", {}).get(name)
        if not wrk or wrk.get("api_cpu_ms") is None:
            continue
        rows[name] = _row(
            wrk["api_cpu_ms"],
            wrk.get("postgres_cpu_ms"),
            trips.get(statement_row, {}).get("sql") if statement_row else 1,
            load=f"wrk 8 connections, {wrk['rps']:.0f} req/s, machine busy {wrk['machine_busy']:.0%}",
        )
    throughput = figures.get("throughput", {})
    if throughput.get("worker_cpu_ms_per_job") is not None:
        rows["ingestion job"] = _row(
            throughput["worker_cpu_ms_per_job"],
            throughput.get("postgres_cpu_ms_per_job"),
            trips.get("ingestion job", {}).get("sql"),
            load=f"{throughput.get('messages')} messages, {throughput.get('ingestion_jobs_s')} jobs/s",
        )
    return rows


def _row(
    process_ms: float, postgres_ms: float | None, round_trips: int | None, *, load: str
) -> dict[str, Any]:
    return {
        "process_cpu_ms": process_ms,
        "postgres_cpu_ms": postgres_ms,
        "round_trips": round_trips,
        "per_process_core_per_s": round(1000 / process_ms) if process_ms else None,
        "per_postgres_core_per_s": round(1000 / postgres_ms) if postgres_ms else None,
        "load": load,
    }


def processes_for(rate_per_s: float, process_cpu_ms: float) -> int:
    """Processes (one core each, planned at UTILISATION) that serve `rate_per_s`."""
    return max(1, math.ceil(rate_per_s * process_cpu_ms / 1000 / UTILISATION))


def table(rows: dict[str, dict[str, Any]]) -> list[str]:
    if not rows:
        return []

    def cell(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = [
        "capacity model: CPU ms per request (per job for ingestion), from /proc around the measured batch",
        f"  {'operation':<16} {'process ms':>10} {'postgres ms':>11} {'trips':>5} {'/s per core':>11} "
        f"{'/s per pg core':>14} {'procs for 1k/s':>14}  load",
    ]
    for name, row in rows.items():
        lines.append(
            f"  {name:<16} {cell(row['process_cpu_ms'], '.3f'):>10} "
            f"{cell(row['postgres_cpu_ms'], '.3f'):>11} "
            f"{cell(row['round_trips'], 'd'):>5} {cell(row['per_process_core_per_s'], 'd'):>11} "
            f"{cell(row['per_postgres_core_per_s'], 'd'):>14} "
            f"{processes_for(1000, row['process_cpu_ms']):>14}  {row['load']}"
        )
    lines.append(
        "  (process: the API's for requests, the worker's for jobs; "
        f"planned at {UTILISATION:.0%} of a core each)"
    )
    return lines
