"""What the race suite did in a run: batches, operations, invariant checks, failures (first seen and
shrunk), and the burst and stall figures each probe recorded.

Each process adds to `FIGURES`; xdist workers hand theirs to the controller in `workeroutput`, which
merges them, prints the summary and writes `logs/race.json`. The hooks live in tests/race/conftest.py.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKEROUTPUT_KEY = "lattice_race_figures"


@dataclass
class RaceFigures:
    examples: int = 0
    batches: int = 0
    operations: int = 0
    invariant_checks: int = 0
    failing_batches: int = 0  # every batch that broke an invariant, shrinking's replays included
    operations_by_kind: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    # per failing machine test: first failure (seconds, example number), then the shrunk failure
    failures: list[dict[str, Any]] = field(default_factory=list)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)  # per probe test: its figures
    # per defect class (tools/lattice/engines/race/classes.py): operations swept, requests, worst figures,
    # leftovers
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "batches": self.batches,
            "operations": self.operations,
            "invariant_checks": self.invariant_checks,
            "failing_batches": self.failing_batches,
            "operations_by_kind": dict(sorted(self.operations_by_kind.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "failures": self.failures,
            "probes": dict(sorted(self.probes.items())),
            "classes": dict(sorted(self.classes.items())),
        }

    def add_class_figures(self, name: str, values: dict[str, Any]) -> None:
        """Counts add up, `worst_*` keep the maximum, lists are extended, anything else is replaced."""
        into = self.classes.setdefault(name, {})
        for key, value in values.items():
            if isinstance(value, list):
                into[key] = [*into.get(key, []), *value]
            elif key.startswith("worst_"):
                into[key] = max(into.get(key, value), value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                into[key] = into.get(key, 0) + value
            else:
                into[key] = value

    def merge(self, other: dict[str, Any]) -> None:
        for name in ("examples", "batches", "operations", "invariant_checks", "failing_batches"):
            setattr(self, name, getattr(self, name) + int(other[name]))
        self.operations_by_kind.update(other["operations_by_kind"])
        self.statuses.update(other["statuses"])
        self.failures.extend(other["failures"])
        self.probes.update(other["probes"])
        for name, values in other.get("classes", {}).items():
            self.add_class_figures(name, values)


FIGURES = RaceFigures()


def probe(name: str, **values: Any) -> None:
    """Record figures of one probe (a stall, abuse or burst test), shown in the summary and the JSON."""
    FIGURES.probes.setdefault(name, {}).update(values)


def summary_lines(total: RaceFigures) -> list[str]:
    lines = [
        f"machine: {total.examples} examples, {total.batches} batches, {total.operations} operations, "
        f"{total.invariant_checks} invariant checks, {total.failing_batches} failing batches",
    ]
    if total.operations_by_kind:
        lines.append(
            "    operations: " + ", ".join(f"{k} {n}" for k, n in sorted(total.operations_by_kind.items()))
        )
    if total.statuses:
        lines.append("    answers: " + ", ".join(f"{k} {n}" for k, n in sorted(total.statuses.items())))
    for failure in total.failures:
        lines.append(
            f"    failure in {failure['test']}: first after {failure['first_after_s']}s "
            f"(example {failure['first_example']}, batch of {failure['first_batch_size']}); "
            f"shrunk to a batch of {failure.get('shrunk_batch_size', '?')}: "
            f"{failure.get('message', '')[:160]}"
        )
    for name, values in sorted(total.classes.items()):
        shown = ", ".join(
            f"{k} {len(v) if isinstance(v, list) else v}"
            for k, v in values.items()
            if not isinstance(v, dict)
        )
        lines.append(f"class {name}: {shown}")
    for name, values in sorted(total.probes.items()):
        shown = ", ".join(f"{k} {v}" for k, v in values.items() if not isinstance(v, dict | list))
        lines.append(f"{name}: {shown}")
    return lines


def write(path: Path, total: RaceFigures) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(total.as_json(), indent=1, default=str) + "\n")


def append_to_telemetry(path: Path, run: str, total: RaceFigures) -> None:
    """The run's figures as the last JSON line of the suite's telemetry (`logs/race.json`)."""
    line = {"run": run, "suite": "race", "figures": total.as_json()}
    with path.open("a") as out:
        out.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")
