"""The merged report: per-suite and per-shard counts and times, slowest tests, failures, repeats, figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from tools.lattice.report.collect import Collected

SLOWEST = 20


def leg(record: dict[str, Any]) -> str:
    """A suite on one provider and Python: the matrix runs each test once per leg, by design."""
    python = f", py{record['python']}" if record.get("python") else ""
    return f"{record['suite']} ({record['provider']}{python})"


def merge(found: Collected) -> dict[str, Any]:
    by_test: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in found.records:
        by_test[(leg(record), record["test"])].append(record)
    # A test recorded more than once in a leg (a retry, the same shard run twice, overlapping shards)
    # is flagged; its latest record (by run id, which sorts by start time) is the one counted.
    repeats = [
        {"suite": name, "test": test, "seen": [f"{r['run']} shard {r['shard'] or '-'}" for r in rows]}
        for (name, test), rows in sorted(by_test.items())
        if len(rows) > 1
    ]
    latest = [max(rows, key=lambda r: r["run"]) for rows in by_test.values()]

    suites: dict[str, dict[str, Any]] = {}
    for name in sorted({leg(r) for r in latest}):
        rows = [r for r in latest if leg(r) == name]
        shards: dict[str, dict[str, Any]] = {}
        for shard in sorted({r["shard"] for r in rows}):
            part = [r for r in rows if r["shard"] == shard]
            shards[shard or "-"] = {
                "tests": len(part),
                "time_s": round(sum(r["duration_s"] for r in part), 3),
            }
        loads = [s["time_s"] for s in shards.values()]
        suites[name] = {
            "tests": len(rows),
            "outcomes": dict(Counter(r["outcome"] for r in rows)),
            "time_s": round(sum(r["duration_s"] for r in rows), 3),
            "runs": sorted({r["run"] for r in rows}),
            "shards": shards,
            "shard_balance": round(max(loads) / min(loads), 3) if len(loads) > 1 and min(loads) > 0 else None,
        }
    failed = {r["test"] for r in latest if r["outcome"] in ("failed", "error")}
    known = {r["test"] for r in latest}
    outcomes = Counter(r["outcome"] for r in latest)
    failures = [
        {"test": f.test, "message": f.message, "reproduction": f.reproduction, "source": f.source}
        for f in found.failures
        # JUnit ids are rebuilt from class names: one that matches no telemetry record is kept too
        if f.test in failed or f.test not in known
    ]
    # A failed test whose JUnit file is missing (an interrupted run, a suite without --junitxml) still counts.
    detailed = {f["test"] for f in failures}
    failures += [
        {
            "test": r["test"],
            "message": f"{r['outcome']} (no JUnit detail)",
            "reproduction": "",
            "source": r["source"],
        }
        for r in sorted(latest, key=lambda r: r["test"])
        if r["test"] in failed and r["test"] not in detailed
    ]
    return {
        "sources": found.sources,
        "tests": len(latest),
        "outcomes": dict(outcomes),
        "time_s": round(sum(r["duration_s"] for r in latest), 3),
        "commits": sorted({r["commit"] for r in latest if r["commit"]}),
        "suites": suites,
        "slowest": [
            {"test": r["test"], "suite": leg(r), "shard": r["shard"], "duration_s": r["duration_s"]}
            for r in sorted(latest, key=lambda r: r["duration_s"], reverse=True)[:SLOWEST]
        ],
        "failures": failures,
        "repeats": repeats,
        "figures": found.figures,
    }
