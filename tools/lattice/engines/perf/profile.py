"""The `--profile` table: per operation, each span's mean, the client's view, CPU and pg_stat_statements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The spans app/spans.py records, in the order a request meets them.
ORDER = (
    "framing",
    "loop_wait",
    "dispatch",
    "slot_hop",
    "auth",
    "query",
    "build",
    "close",
    "hop_back",
    "serialise",
    "send",
    "app_total",
)


def profile_table(profile: dict[str, Any]) -> list[str]:
    """The profile as the summary prints it: one column per operation, one row per span."""
    ops = [name for name in profile if isinstance(profile[name], dict)]
    if not ops:
        return []
    lines = [
        "profile: mean ms per request inside the API process (app/spans.py), wrk 2 threads 8 connections",
        f"  {'span':<24}" + "".join(f"{op:>14}" for op in ops),
    ]
    for name in (*ORDER, "requests_seen"):
        if any(name in profile[op]["spans_ms"] for op in ops):
            cells = "".join(
                f"{profile[op]['spans_ms'].get(name, float('nan')):>14.3f}"
                if name != "requests_seen"
                else f"{profile[op]['spans_ms'].get(name, 0):>14d}"
                for op in ops
            )
            lines.append(f"  {name:<24}{cells}")
    rows: dict[str, Callable[[dict[str, Any]], float]] = {
        "client mean ms": lambda f: f["client_mean_ms"],
        "  outside app ms": lambda f: (
            f["client_mean_ms"]
            - f["spans_ms"].get("app_total", 0)
            - f["spans_ms"].get("framing", 0)
            - f["spans_ms"].get("loop_wait", 0)
        ),
        "client p95 ms": lambda f: f["client_p95_ms"],
        "req/s": lambda f: f["rps"],
        "API CPU ms/request": lambda f: f["cpu_ms"].get("api") or float("nan"),
        "PostgreSQL CPU ms/req": lambda f: f["cpu_ms"].get("postgres") or float("nan"),
        "machine busy": lambda f: f["machine_busy"],
    }
    for label, value in rows.items():
        lines.append(f"  {label:<24}" + "".join(f"{value(profile[op]):>14.3f}" for op in ops))
    lines.append(f"  pg_stat_statements: {profile.get('pg_stat_statements', '?')}")
    for op in ops:
        for statement in profile[op]["statements"]:
            lines.append(
                f"    {op:<12} {statement['calls_per_request']:>5.2f}/req "
                f"{statement['mean_exec_ms']:>7.3f} ms "
                f"{statement['rows_per_call']:>5.1f} rows  {statement['statement']}"
            )
    return lines
