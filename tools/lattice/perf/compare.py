"""A run against the accepted baseline: what moved beyond the noise margin (see budgets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.lattice.perf import budgets


@dataclass(frozen=True)
class Movement:
    figure: str
    baseline: float
    now: float
    unit: str
    regressed: bool

    @property
    def change_pct(self) -> float:
        return (self.now - self.baseline) / self.baseline * 100 if self.baseline else 0.0


def latency_regressed(baseline_ms: float, now_ms: float) -> bool:
    return now_ms > baseline_ms * budgets.P95_NOISE_RATIO and now_ms - baseline_ms >= budgets.P95_NOISE_MIN_MS


def throughput_regressed(baseline: float, now: float) -> bool:
    return now < baseline / budgets.THROUGHPUT_NOISE_RATIO


def compare(baseline: dict[str, Any], now: dict[str, Any]) -> list[Movement]:
    """Every figure present in both, p95 per operation and jobs/s per queue measure."""
    moved = []
    for op, figures in sorted(now.get("latency", {}).items()):
        base = baseline.get("latency", {}).get(op)
        if base is None:
            continue
        moved.append(
            Movement(
                f"{op} p95",
                base["p95_ms"],
                figures["p95_ms"],
                "ms",
                latency_regressed(base["p95_ms"], figures["p95_ms"]),
            )
        )
    for name, value in sorted(now.get("throughput", {}).items()):
        base_value = baseline.get("throughput", {}).get(name)
        if base_value is None or not name.endswith("jobs_s"):
            continue
        moved.append(Movement(name, base_value, value, "jobs/s", throughput_regressed(base_value, value)))
    return moved


def table(movements: list[Movement]) -> list[str]:
    lines = [f"{'figure':<28} {'baseline':>10} {'now':>10} {'change':>8}  verdict"]
    for m in movements:
        verdict = "REGRESSED" if m.regressed else "ok"
        lines.append(
            f"{m.figure:<28} {m.baseline:>10.1f} {m.now:>10.1f} {m.change_pct:>+7.0f}%  {verdict} ({m.unit})"
        )
    return lines
