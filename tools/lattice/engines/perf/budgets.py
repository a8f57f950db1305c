"""What a perf run must meet (gates, which fail it) and what it aims for (printed beside the figures)."""

from __future__ import annotations

# Latency: p95 per operation under 8 concurrent clients.
P95_GATE_MS = 150.0  # hard, at the reference load (below); a run above its scaled gate fails
P95_AIM_MS = 15.0  # the aim, printed
CLIENTS = 8

# The hard gate is load-scaled: the bare anchor (tests/perf/bare_app.py) measured p95 20.7-26.4 ms
# under wrk (2 threads, 8 connections) on the quiet 2-core development machine. When this run's bare p95
# is k times that, the machine is k times slower than the one the 150 ms budget was set on, and the gate
# is 150 ms x k (never below 150 ms): a loaded machine does not fail it, a slower API still does.
REFERENCE_BARE_P95_MS = 25.0


def p95_gate_ms(bare_p95_ms: float | None) -> float:
    """The hard p95 gate for this run, scaled by how slow the bare anchor is against the reference."""
    if bare_p95_ms is None:
        return P95_GATE_MS
    return P95_GATE_MS * max(1.0, bare_p95_ms / REFERENCE_BARE_P95_MS)


# Queue: marks ingested per second by one `retrace worker` process.
INGEST_AIM_JOBS_S = 1000.0  # on a quiet machine

# Ratios, ours / the tutorial-shaped reference (tests/perf/bare_app.py) in the same run:
# name -> (goal, "<=" or ">="). Gated against the accepted baseline (below).
RATIO_GOALS: dict[str, tuple[float, str]] = {
    "get_p95_vs_bare": (1.5, "<="),
    "get_rps_vs_bare": (0.6, ">="),
    "token_auth_p95_vs_bare": (1.5, "<="),
    "list_p95_vs_bare": (2.0, "<="),
    "ingest_rate_vs_raw_actor": (0.5, ">="),
}

# Ratios, ours / the floor (tests/perf/floor_app.py) in the same run: issue 30's goals for the request
# path. Printed beside the figures, not gated: Retrace is above them today (docs/performance.md), and a
# gate that fails on every run lands nothing. `floor` ratios move to RATIO_GOALS when they are met.
FLOOR_GOALS: dict[str, tuple[float, str]] = {
    "get_p95_vs_floor": (1.2, "<="),
    "get_rps_vs_floor": (0.8, ">="),
    "token_auth_p95_vs_floor": (1.2, "<="),
    "list_p95_vs_floor": (1.5, "<="),
}

# Against the accepted baseline's ratios: both sides of a ratio ran in the same minute on the same load,
# so a ratio moves far less than a raw figure (rates: within about +-25 % over three runs on a loaded
# machine; p95 ratios more, with the bare anchor's tail). A regression is a "<=" ratio above both
# baseline x 1.4 and its goal, or a ">=" ratio below both baseline / 1.4 and its goal.
RATIO_NOISE = 1.4


def p95_verdict(p95_ms: float, gate_ms: float = P95_GATE_MS) -> str:
    if p95_ms > gate_ms:
        return "OVER GATE"
    return "aim met" if p95_ms <= P95_AIM_MS else "over aim"


def ingest_verdict(jobs_s: float) -> str:
    return "aim met" if jobs_s >= INGEST_AIM_JOBS_S else "under aim (quiet-machine aim)"


def goal_met(name: str, value: float) -> bool:
    goal, sense = {**RATIO_GOALS, **FLOOR_GOALS}[name]
    return value <= goal if sense == "<=" else value >= goal
