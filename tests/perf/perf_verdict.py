"""The run's verdict (runs last): append to perf/history.jsonl, plot logs/perf.png, compare with
perf/baseline.json or, with `--accept`, make this run the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf.conftest import Figures
from tools.lattice.perf import budgets, history
from tools.lattice.perf.compare import compare, table
from tools.lattice.perf.plot import plot_history
from tools.lattice.plugin import current_run

PLOT = Path("logs/perf.png")


def _provider() -> str:
    run = current_run()
    return run.provider if run is not None else "unknown"


def test_against_baseline(figures: Figures, verdict_lines: list[str], request: pytest.FixtureRequest) -> None:
    assert figures["latency"], "no latency figures: every latency benchmark failed or was deselected"
    record = history.new_record(_provider(), figures)
    history.append(record)
    plot_history(history.load_history(), PLOT)
    verdict_lines.append(f"history: {history.HISTORY} ({len(history.load_history())} runs), plot: {PLOT}")
    over_gate = [op for op, f in figures["latency"].items() if f["p95_ms"] > budgets.P95_GATE_MS]

    if request.config.getoption("perf_accept"):
        # The baseline is what later runs are compared with; the gate is judged by the latency benchmarks
        # themselves, so a run over it is still accepted (and still fails the session).
        history.accept(record)
        verdict_lines.append(f"baseline: accepted this run ({record['commit']}) into {history.BASELINE}")
        if over_gate:
            verdict_lines.append(f"baseline: note, p95 over the gate for {', '.join(over_gate)}")
        return

    baseline = history.load_baseline()
    if baseline is None:
        verdict_lines.append(f"baseline: none at {history.BASELINE}; `nox -s perf -- --accept` writes one")
        return
    movements = compare(baseline["figures"], figures)
    verdict_lines.append(
        f"against baseline {str(baseline.get('commit'))[:12]} of {baseline.get('timestamp')} "
        f"(regression: p95 > x{budgets.P95_NOISE_RATIO} and >= +{budgets.P95_NOISE_MIN_MS:.0f} ms; "
        f"jobs/s < /{budgets.THROUGHPUT_NOISE_RATIO})"
    )
    verdict_lines.extend(table(movements))
    regressed = [m for m in movements if m.regressed]
    assert not regressed, "regressed against the baseline:\n" + "\n".join(table(regressed))
