"""The run's verdict (runs last): write logs/perf.json, append to perf/history.jsonl, plot logs/perf.png,
compare the run's ratios with perf/baseline.json's or, with `--accept`, make this run the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf.conftest import Figures
from tools.lattice.perf import budgets, history
from tools.lattice.perf.compare import compare, ratios, table
from tools.lattice.perf.plot import plot_history
from tools.lattice.plugin import current_run

PLOT = Path("logs/perf.png")


def _provider() -> str:
    run = current_run()
    return run.provider if run is not None else "unknown"


def test_against_baseline(figures: Figures, verdict_lines: list[str], request: pytest.FixtureRequest) -> None:
    assert figures["latency"], "no latency figures: every latency benchmark failed or was deselected"
    now = ratios(figures)
    figures["ratios"] = now
    record = history.new_record(_provider(), figures, now)
    history.write_last_run(record)
    history.append(record)
    plot_history(history.load_history(), PLOT)
    verdict_lines.append(
        f"this run: {history.LAST_RUN}; history: {history.HISTORY} ({len(history.load_history())} runs), "
        f"plot: {PLOT}"
    )

    if request.config.getoption("perf_accept"):
        # The gates are judged by the benchmarks themselves, so a run over one is still accepted (and
        # still fails the session).
        history.accept(record)
        verdict_lines.append(f"baseline: accepted this run ({record['commit']}) into {history.BASELINE}")
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
