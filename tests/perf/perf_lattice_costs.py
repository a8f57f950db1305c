"""The lattice's own costs in the same report: this run's per-worker bootstrap, and every
`tests/perf/bench_*.py` module present (service start cold/warm, reset vs truncate-all, ...)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.perf.conftest import Figures
from tools.lattice.plugin.workerstate import WorkerLattice

# A report, not a study: fewer service-start runs than the default 5, and no integration-suite runs.
BENCH_ARGS = {"bench_services": ["3"], "bench_harness": ["--skip-suite"]}
BENCH_TIMEOUT_S = 600


def test_worker_bootstrap_and_reset(lattice: WorkerLattice, figures: Figures) -> None:
    own = lattice.figures()
    assert "bootstrap_total_s" in own
    for name, value in own.items():
        figures["lattice"][f"this run: {name}"] = value


def test_bench_modules(figures: Figures) -> None:
    benches = sorted(Path(__file__).parent.glob("bench_*.py"))
    assert benches, "no tests/perf/bench_*.py module"
    for bench in benches:
        module = f"tests.perf.{bench.stem}"
        done = subprocess.run(
            [sys.executable, "-m", module, *BENCH_ARGS.get(bench.stem, [])],
            capture_output=True,
            text=True,
            timeout=BENCH_TIMEOUT_S,
        )
        lines = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
        figures["lattice"][bench.stem] = lines or [f"(no output, exit {done.returncode})"]
        print("\n".join(lines))
        assert done.returncode in (0, 1), f"{module} crashed:\n{done.stderr[-2000:]}"
