"""The run's verdict (runs last): write logs/perf.json and logs/perf-history.jsonl, plot logs/perf.png,
compare the run's ratios with perf/baseline.json's. Only `--record` appends to the tracked
perf/history.jsonl and only `--accept` rewrites the tracked perf/baseline.json: a plain run leaves
`git status` clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf.conftest import Figures
from tools.lattice.engines.perf import budgets, capacity, history
from tools.lattice.engines.perf.compare import compare, ratios, table
from tools.lattice.engines.perf.plot import plot_history
from tools.lattice.plugin.hooks import current_run

PLOT = Path("logs/perf.png")


def _provider() -> str:
    run = current_run()
    return run.provider if run is not None else "unknown"


def test_against_baseline(figures: Figures, verdict_lines: list[str], request: pytest.FixtureRequest) -> None:
    assert figures["latency"], "no latency figures: every latency benchmark failed or was deselected"
    now = ratios(figures)
    figures["ratios"] = now
    figures["capacity"] = capacity.model(figures)
    record = history.new_record(_provider(), figures, now)
    accepting = bool(request.config.getoption("perf_accept"))
    verdict_lines.extend(
        history.bookkeep(
            record, record_history=bool(request.config.getoption("perf_record")), accept_run=accepting
        )
    )
    plotted = history.plotted_history()
    plot_history(plotted, PLOT)
    verdict_lines.append(f"plot: {PLOT} ({len(plotted)} runs)")

    if accepting:
        # The gates are judged by the benchmarks themselves, so a run over one is still accepted (and
        # still fails the session).
        return

    baseline = history.load_baseline()
    if baseline is None or not baseline.get("ratios"):
        verdict_lines.append(
            f"baseline: no ratios at {history.BASELINE}; `nox -s perf -- --accept` writes them"
        )
        return
    movements = compare(baseline["ratios"], now)
    verdict_lines.append(
        f"ratios against baseline {str(baseline.get('commit'))[:12]} of {baseline.get('timestamp')} "
        f"(regression: worse than the baseline's by more than x{budgets.RATIO_NOISE} and outside its goal)"
    )
    verdict_lines.extend(table(movements))
    regressed = [m for m in movements if m.regressed]
    assert not regressed, "ratios regressed against the baseline:\n" + "\n".join(table(regressed))
