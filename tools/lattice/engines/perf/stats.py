"""Percentiles of latency samples: the standard library's `statistics.quantiles(method="inclusive")`,
linear interpolation between the closest ranks (numpy's default, and what this module computed by hand
before)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], p: int) -> float:
    """The p-th percentile (an integer 0..100) of `samples`: 0 is the least, 100 the greatest."""
    if not samples:
        raise ValueError("no samples")
    if not (isinstance(p, int) and 0 <= p <= 100):
        raise ValueError(f"percentile {p!r} is not an integer in 0..100")
    if p in (0, 100) or len(samples) == 1:  # quantiles gives the 99 cut points between, from 2 samples
        return float(min(samples) if p == 0 else max(samples) if p == 100 else samples[0])
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


@dataclass(frozen=True)
class LatencySummary:
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float

    @classmethod
    def of(cls, latencies_s: Sequence[float], wall_s: float) -> LatencySummary:
        ms = [s * 1000 for s in latencies_s]
        return cls(
            n=len(ms),
            p50_ms=round(percentile(ms, 50), 3),
            p95_ms=round(percentile(ms, 95), 3),
            p99_ms=round(percentile(ms, 99), 3),
            max_ms=round(max(ms), 3),
            rps=round(len(ms) / wall_s, 1) if wall_s > 0 else 0.0,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "n": self.n,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "rps": self.rps,
        }
