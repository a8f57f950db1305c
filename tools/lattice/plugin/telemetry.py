"""Per-test telemetry: JSON lines in logs/<suite>.json and a short summary at the end of the run.

Every line carries the labels a log shipper (Loki, an ELK pipeline) indexes as they are: run, suite,
provider, python, commit and shard; the Grafana dashboard in observability/ is built on these fields.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class TestRecord:
    __test__: ClassVar[bool] = False  # a record of a test, not one: pytest must not try to collect it

    run: str
    worker: str
    suite: str
    test: str
    outcome: str
    duration_s: float
    provider: str
    commit: str = ""
    shard: str = ""
    python: str = f"{sys.version_info.major}.{sys.version_info.minor}"

    def as_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))


@dataclass
class Telemetry:
    path: Path
    run: str
    suite: str
    provider: str
    commit: str = ""
    shard: str = ""
    records: list[TestRecord] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def add(self, worker: str, test: str, outcome: str, duration_s: float) -> None:
        record = TestRecord(
            self.run,
            worker,
            self.suite,
            test,
            outcome,
            round(duration_s, 6),
            self.provider,
            self.commit,
            self.shard,
        )
        self.records.append(record)
        with self.path.open("a") as out:
            out.write(record.as_json() + "\n")

    def summary_lines(self, slowest: int = 5) -> list[str]:
        per_worker: dict[str, list[TestRecord]] = defaultdict(list)
        outcomes: dict[str, int] = defaultdict(int)
        for record in self.records:
            per_worker[record.worker].append(record)
            outcomes[record.outcome] += 1
        lines = [
            f"run {self.run} · suite {self.suite} · provider {self.provider} · "
            + (f"shard {self.shard} · " if self.shard else "")
            + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())),
            f"{'worker':<8} {'tests':>6} {'time s':>8}",
        ]
        for worker, records in sorted(per_worker.items()):
            lines.append(f"{worker:<8} {len(records):>6} {sum(r.duration_s for r in records):>8.2f}")
        for name, value in sorted(self.figures.items()):
            lines.append(f"{name}: {value}")
        if self.records:
            lines.append("slowest:")
            for record in sorted(self.records, key=lambda r: r.duration_s, reverse=True)[:slowest]:
                lines.append(f"  {record.duration_s:7.3f}s {record.worker:<5} {record.test}")
        lines.append(f"telemetry: {self.path}")
        return lines


def current_commit(configured: str | None) -> str:
    """The commit under test: the configured one (LATTICE_COMMIT), else git's HEAD, else ""."""
    if configured:
        return configured
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
