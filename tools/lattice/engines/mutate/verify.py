"""`--verify N`: the map checked against the full run.

N of the run's mutants (drawn with the run's seed) are run again against every test of the map's
suites and of the suites that run only whole processes (live), with no map choosing: the map is right
about a mutant when both runs call it caught, or both call it missed. A disagreement where the full
run kills what the map's tests did not is a test the map failed to assign (a mapping gap); the other
way round is a flaky kill.
"""

from __future__ import annotations

import queue
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.lattice.engines.mutate.report import CAUGHT, NOT_SCORED, Result
from tools.lattice.engines.mutate.sandbox import Outcome, Sandbox, SandboxBroken

# Suites whose tests the map cannot list one by one because their value is whole processes; the full
# run includes them whole.
WHOLE_SUITES = ("live",)


def caught(status: str) -> bool:
    return status in CAUGHT


def choose(results: list[Result], n: int, seed: int) -> list[Result]:
    scored = [r for r in results if r.status not in NOT_SCORED]
    return random.Random(seed).sample(scored, min(n, len(scored)))


def everything(map_tests: list[str], durations: dict[str, float], suites: list[str]) -> list[str]:
    """Every passing test the map knows (fastest first: a kill comes sooner), and the whole-process
    suites not among the map's."""
    extra = [f"tests/{s}" for s in WHOLE_SUITES if s not in suites]
    return [*sorted(map_tests, key=lambda t: (durations.get(t, 1.0), t)), *extra]


def run(
    chosen: list[Result],
    tests: list[str],
    sandboxes: queue.Queue[Sandbox],
    budget_s: float,
    workers: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Each chosen mutant against `tests`; the agreements and every disagreement."""

    def one(result: Result) -> tuple[Result, Outcome]:
        sandbox = sandboxes.get()
        try:
            return result, sandbox.run(result.mutant, tests, budget_s)
        finally:
            sandboxes.put(sandbox)

    rows = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for n, (result, full) in enumerate(pool.map(one, chosen), start=1):
            if full.status == "error":
                raise SandboxBroken(f"mutate: --verify: {result.mutant.label}: {full.detail}")
            agree = caught(result.status) == caught(full.status)
            say(
                f"[verify {n}/{len(chosen)}] {'agree' if agree else 'DISAGREE':<8} "
                f"{result.mutant.label}: map {result.status}, full run {full.status}"
                + (f" (by {full.killed_by})" if full.killed_by else "")
            )
            rows.append(
                {
                    "key": result.mutant.key,
                    "where": result.mutant.label,
                    "map": result.status,
                    "map_tests": len(result.tests),
                    "full": full.status,
                    "full_killed_by": full.killed_by,
                    "full_s": round(full.seconds, 1),
                    "agree": agree,
                }
            )
    return {
        "mutants": len(rows),
        "agree": sum(r["agree"] for r in rows),
        "tests": len(tests),
        "disagreements": [r for r in rows if not r["agree"]],
        "rows": rows,
    }
