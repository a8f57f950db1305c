"""What a mutate run found: logs/mutate.json, the end summary, and GitHub annotations for survivors."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.lattice.engines.mutate.sandbox import Outcome
from tools.lattice.engines.mutate.scope import Mutant

CAUGHT = ("killed", "timeout")
NOT_SCORED = ("equivalent", "error")


@dataclass
class Result:
    mutant: Mutant
    outcome: Outcome
    diff: str
    tests: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.outcome.status


def score(results: list[Result]) -> float | None:
    """Caught ÷ non-equivalent. A timeout counts as caught (the suite hangs: someone notices);
    a mutant no test runs counts as survived; an `error` (the runner failed, not a test) is left out."""
    scored = [r for r in results if r.status not in NOT_SCORED]
    if not scored:
        return None
    return sum(r.status in CAUGHT for r in scored) / len(scored)


def _suite(test: str | None) -> str:
    parts = (test or "").split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "start-up"


def _breakdown(results: list[Result], key: str) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        name = r.mutant.path if key == "file" else r.mutant.mutation.operator
        table[name][r.status] += 1
    return {name: dict(counts) for name, counts in sorted(table.items())}


PHASES = ("start", "fixtures", "tests", "exit", "wait")


def _phases(run: list[Result]) -> dict[str, float]:
    """A run mutant's mean time per phase (sandbox.Outcome.phases), and its mean count of tests run."""
    timed = [r.outcome.phases for r in run if r.outcome.phases]
    if not timed:
        return {}
    means = {p: round(sum(t.get(p, 0.0) for t in timed) / len(timed), 3) for p in PHASES}
    means["total"] = round(sum(r.outcome.seconds for r in run) / len(run), 3)
    means["tests_listed"] = round(sum(len(r.tests) for r in run) / len(run), 1)
    return means


def as_json(
    results: list[Result], *, scope: str, wall_s: float, floor: float, extra: dict[str, Any]
) -> dict[str, Any]:
    value = score(results)
    run = [r for r in results if r.status not in ("equivalent", "no-tests")]
    return {
        "scope": scope,
        "mutants": len(results),
        "counts": dict(Counter(r.status for r in results)),
        "score": None if value is None else round(value, 4),
        "floor": floor,
        "passed": value is None or value * 100 >= floor,
        "wall_s": round(wall_s, 1),
        "mutants_per_s": round(len(run) / wall_s, 3) if wall_s > 0 else None,
        "per_file": _breakdown(results, "file"),
        "per_mutant_s": _phases(run),
        "per_operator": _breakdown(results, "operator"),
        "killed_per_suite": dict(
            Counter(_suite(r.outcome.killed_by) for r in results if r.status == "killed")
        ),
        "survivors": [
            {
                "key": r.mutant.key,
                "where": r.mutant.label,
                "scope": r.mutant.mutation.scope,
                "diff": r.diff,
                "tests_run": len(r.tests),
                "tests": r.tests[:20],
            }
            for r in results
            if r.status in ("survived", "no-tests")
        ],
        "errors": [
            {"where": r.mutant.label, "detail": r.outcome.detail} for r in results if r.status == "error"
        ],
        **extra,
    }


def summary_lines(report: dict[str, Any]) -> list[str]:
    counts = report["counts"]
    value = report["score"]
    seed = report.get("seed")
    filtered = report.get("filtered") or {}
    lines = [
        f"mutate: {report['scope']}"
        + (f" · seed {seed} (from {report.get('seed_from')})" if seed is not None else ""),
        *(
            ["filtered before running: " + ", ".join(f"{n} {rule}" for rule, n in filtered.items())]
            if filtered
            else []
        ),
        f"mutants {report['mutants']}: "
        + ", ".join(
            f"{counts.get(s, 0)} {s}"
            for s in ("killed", "timeout", "survived", "no-tests", "equivalent", "error")
        ),
        f"score {'-' if value is None else f'{value:.1%}'} (floor {report['floor']:.0f} %) · "
        f"{report['wall_s']} s wall · {report['mutants_per_s']} mutants/s"
        + (
            f" ({report['mutants_per_s_without_map']}/s after the map)"
            if "mutants_per_s_without_map" in report
            else ""
        ),
        *_time_lines(report),
        f"{'operator':<14} {'killed':>7} {'timeout':>8} {'survived':>9} {'no-tests':>9}",
    ]
    for name, row in report["per_operator"].items():
        lines.append(
            f"{name:<14} {row.get('killed', 0):>7} {row.get('timeout', 0):>8} "
            f"{row.get('survived', 0):>9} {row.get('no-tests', 0):>9}"
        )
    if report["killed_per_suite"]:
        lines.append(
            "killed by suite: " + ", ".join(f"{s} {n}" for s, n in sorted(report["killed_per_suite"].items()))
        )
    for survivor in report["survivors"]:
        lines.append(f"survived {survivor['key']} {survivor['where']} ({survivor['tests_run']} tests ran)")
        lines.extend("    " + row for row in survivor["diff"].splitlines()[2:])
    if (checked := report.get("verify")) is not None:
        lines.append(f"verify: the map and the full run agree on {checked['agree']} of {checked['mutants']}")
        lines.extend(
            f"    disagree {row['where']}: map {row['map']}, full run {row['full']}"
            for row in checked["disagreements"]
        )
    for error in report["errors"]:
        lines.append(f"error {error['where']}: {error['detail'].splitlines()[-1:] or ''}")
    return lines


def _time_lines(report: dict[str, Any]) -> list[str]:
    """Where the wall time went: the map, the set-up, the mutants; and a mutant's mean run by phase."""
    lines = []
    if (spent := report.get("time_s")) is not None:
        lines.append("time: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in spent.items()))
    if phases := report.get("per_mutant_s"):
        lines.append(
            f"a mutant's run, mean of the run ones: {phases['total']:.2f} s = "
            + " + ".join(f"{name} {phases[name]:.2f}" for name in PHASES)
            + f" ({phases['tests_listed']} tests listed)"
        )
    if servers := report.get("runs_by_server"):
        lines.append(f"pytest runs: {servers['warm']} warm (function swapped in), {servers['cold']} cold")
    return lines


def github_annotations(report: dict[str, Any]) -> list[str]:
    """One `::error` line per survivor, which a GitHub runner shows on the changed line."""
    out = []
    for survivor in report["survivors"]:
        path, _, rest = survivor["where"].partition(":")
        line, _, operator = rest.partition(" ")
        out.append(
            f"::error file={path},line={line},title=mutant survived ({operator})::"
            f"no test noticed this change (key {survivor['key']}); add a test that fails on it, "
            "or list it in tests/mutation/equivalent.toml with the reason"
        )
    return out


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
