"""What a perf run must meet (gates, which fail it) and what it aims for (printed beside the figures)."""

from __future__ import annotations

# Latency: p95 per operation under 8 concurrent clients.
P95_GATE_MS = 150.0  # hard: a run above it fails
P95_AIM_MS = 15.0  # the aim, printed
CLIENTS = 8

# Queue: marks ingested per second by one `retrace worker` process.
INGEST_AIM_JOBS_S = 500.0

# Against the accepted baseline. This machine varies by about +-30 % between sessions, so a latency
# regression is a p95 both 50 % above the baseline and at least 5 ms above it; a throughput regression is
# a rate that fell below baseline / 1.5.
P95_NOISE_RATIO = 1.5
P95_NOISE_MIN_MS = 5.0
THROUGHPUT_NOISE_RATIO = 1.5


def p95_verdict(p95_ms: float) -> str:
    if p95_ms > P95_GATE_MS:
        return "OVER GATE"
    return "aim met" if p95_ms <= P95_AIM_MS else "over aim"


def ingest_verdict(jobs_s: float) -> str:
    return "aim met" if jobs_s >= INGEST_AIM_JOBS_S else "under aim"
