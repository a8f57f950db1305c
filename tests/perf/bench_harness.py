"""What the lattice itself costs: `python -m tests.perf.bench_harness [--repeat N] [--skip-suite]`.

Prints medians of
- the per-test reset (`reset.Resetter.reset`) against `truncate_all`, on a worker schema holding
  ~150 rows in 3 tables (marks, ingestions, attachments) (goal: >= 10x faster and <= 2 ms);
- the per-worker bootstrap (`WorkerLattice.bootstrap`: schema, app, two OTP sign-ins) (goal: <= 0.3 s);
- the wall time of the integration suite at `-n 1` and `-n 2` (pytest as a subprocess) and the speed-up;
- with `--repeat N`: N more `-n 2` runs in random order, and every failure they had (goal: 0).
Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from tools.lattice.planes.isolation import Plane, record_run, sweep_run
from tools.lattice.planes.naming import WorkerNames, new_run_id
from tools.lattice.plugin.childenv import child_pytest_env
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.services import start_services

GOALS = {"reset_ms": 2.0, "reset_speedup": 10.0, "bootstrap_s": 0.3}
ROWS_PER_TABLE = 50
# What `nox -s integration` runs of it: the state machines are a session of their own (`nox -s stateful`).
SUITE = "tests/integration"
SUITE_ARGS = ("--ignore=tests/integration/stateful",)


def _seed(engine: Engine, owner: uuid.UUID) -> None:
    """~150 rows: ROWS_PER_TABLE marks, each with its ingestion and its attachment."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(ROWS_PER_TABLE)]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO marks (id, user_id, note, tags, created_at, updated_at) "
                "VALUES (:id, :u, 'seeded', '{}', :t, :t)"
            ),
            [{"id": i, "u": owner, "t": now} for i in ids],
        )
        conn.execute(
            text("INSERT INTO ingestions (mark_id, status, version, attempts) VALUES (:id, 'pending', 1, 0)"),
            [{"id": i} for i in ids],
        )
        conn.execute(
            text(
                "INSERT INTO attachments (mark_id, blob_id, content_type, size, sha256) "
                "VALUES (:id, :b, 'text/plain', 1, :s)"
            ),
            [{"id": i, "b": uuid.uuid4(), "s": "0" * 64} for i in ids],
        )


def _ensure_user(engine: Engine, user_id: uuid.UUID) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, created_at) VALUES (:id, :e, now()) "
                "ON CONFLICT (id) DO NOTHING"
            ),
            {"id": user_id, "e": f"bench-{user_id.hex[:8]}@example.test"},
        )


def _timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


@dataclass
class ResetFigures:
    reset_ms: float
    reset_untouched_ms: float
    lattice_reset_ms: float
    truncate_ms: float


def bench_reset(lattice: WorkerLattice, rounds: int) -> ResetFigures:
    engine, resetter = lattice.engine, lattice.resetter
    owner = lattice.accounts["user"].id
    reset, untouched, full, truncate = [], [], [], []
    for _ in range(rounds):
        _seed(engine, owner)
        reset.append(_timed_ms(lambda: resetter.reset()))
        untouched.append(_timed_ms(lambda: resetter.reset()))
        _seed(engine, owner)
        full.append(_timed_ms(lattice.reset))  # what a test pays: worker pause, tables, files
    spare = uuid.uuid4()
    for _ in range(rounds):
        _ensure_user(engine, spare)
        _seed(engine, spare)
        truncate.append(_timed_ms(resetter.truncate_all))
    lattice.reset()  # the snapshot (the worker's accounts) back after the truncations
    return ResetFigures(
        statistics.median(reset),
        statistics.median(untouched),
        statistics.median(full),
        statistics.median(truncate),
    )


def bench_bootstrap(
    database_url: str, redis_url: str, run_id: str, workers: int
) -> tuple[list[float], WorkerLattice]:
    """Bootstrap `workers` worker lattices in turn; returns their totals and the last one (left open)."""
    totals: list[float] = []
    last: WorkerLattice | None = None
    for index in range(workers):
        if last is not None:
            last.close()
        plane = Plane(WorkerNames(run_id, 100 + index), database_url, redis_url)
        last = WorkerLattice.bootstrap(plane)
        totals.append(plane.bootstrap_s["total"])
    assert last is not None
    return totals, last


@dataclass
class SuiteRun:
    workers: int
    wall_s: float
    returncode: int
    summary: str
    seed: str
    failures: list[str]


_SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error).*) in [\d.]+s", re.MULTILINE)
_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


def run_suite(workers: int, extra: list[str]) -> SuiteRun:
    # Chosen here and passed on, because `-q` hides the header where pytest-randomly prints its seed.
    seed = str(secrets.randbelow(2**32))
    with tempfile.TemporaryDirectory(prefix="bench-harness-logs-") as logs:
        command = [
            sys.executable, "-m", "pytest", SUITE, *SUITE_ARGS, "-n", str(workers), "-q",
            "-p", "no:cacheprovider",
            f"--lattice-logs={logs}", f"--lattice-suite=bench-n{workers}", f"--randomly-seed={seed}", *extra,
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=child_pytest_env(), check=False)
        wall = time.perf_counter() - started
    out = done.stdout + done.stderr
    summary = _SUMMARY.search(out)
    return SuiteRun(
        workers=workers,
        wall_s=wall,
        returncode=done.returncode,
        summary=summary.group(1)
        if summary
        else out.strip().splitlines()[-1]
        if out.strip()
        else "(no output)",
        seed=seed,
        failures=[m.group(2) for m in _FAILED.finditer(out)],
    )


def _verdict(ok: bool) -> str:
    return "meets goal" if ok else "MISSES goal"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench_harness", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="reset rounds (default 30)")
    parser.add_argument("--bootstraps", type=int, default=5, help="worker bootstraps (default 5)")
    parser.add_argument("--repeat", type=int, default=0, help="extra -n 2 random-order suite runs")
    parser.add_argument("--skip-suite", action="store_true", help="only the reset and bootstrap figures")
    parser.add_argument("pytest_args", nargs="*", help="passed to the suite runs (after --)")
    args = parser.parse_args(argv)

    with start_services() as services:
        run_id = new_run_id()
        record_run(run_id)
        try:
            totals, lattice = bench_bootstrap(
                services.database_url, services.redis_url, run_id, args.bootstraps
            )
            try:
                reset = bench_reset(lattice, args.rounds)
            finally:
                lattice.close()
        finally:
            sweep_run(run_id, services.database_url, services.redis_url)
    print(f"provider: {services.provider}")
    speedup = reset.truncate_ms / reset.reset_ms
    print(
        f"reset, {3 * ROWS_PER_TABLE} rows in 3 tables: median {reset.reset_ms:.2f} ms "
        f"({_verdict(reset.reset_ms <= GOALS['reset_ms'])} <= {GOALS['reset_ms']} ms)"
    )
    print(f"truncate_all, same rows: median {reset.truncate_ms:.2f} ms")
    print(
        f"reset speed-up over truncate_all: {speedup:.1f}x "
        f"({_verdict(speedup >= GOALS['reset_speedup'])} >= {GOALS['reset_speedup']:.0f}x)"
    )
    print(f"reset with nothing touched: median {reset.reset_untouched_ms:.2f} ms")
    print(
        f"WorkerLattice.reset (worker pause + tables + files), 150 rows: "
        f"median {reset.lattice_reset_ms:.2f} ms"
    )
    boot = statistics.median(totals)
    print(
        f"worker bootstrap: median {boot:.3f} s over {len(totals)} (first {totals[0]:.3f} s) "
        f"({_verdict(boot <= GOALS['bootstrap_s'])} <= {GOALS['bootstrap_s']} s)"
    )
    if args.skip_suite:
        return 0

    failed_runs = 0
    one, two = run_suite(1, args.pytest_args), run_suite(2, args.pytest_args)
    for run in (one, two):
        print(f"suite -n {run.workers}: {run.wall_s:.1f} s wall ({run.summary}; seed {run.seed})")
        failed_runs += run.returncode != 0
    print(f"speed-up -n 2 over -n 1: {one.wall_s / two.wall_s:.2f}x")
    for i in range(args.repeat):
        run = run_suite(2, args.pytest_args)
        failed_runs += run.returncode != 0
        print(f"repeat {i + 1}/{args.repeat} -n 2: {run.wall_s:.1f} s, seed {run.seed}: {run.summary}")
        for failure in run.failures:
            print(f"    {failure}")
    print(f"suite runs with failures: {failed_runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
