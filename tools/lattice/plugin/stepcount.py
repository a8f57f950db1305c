"""What the state machines did in a run: examples, steps, invariant passes and checks, per machine.

Each process counts into `COUNTS`; xdist workers hand theirs to the controller in `workeroutput`,
which merges them, prints a summary and writes `logs/<suite>-figures.json`. The hooks that do this
live in the stateful suite's conftest; this module is the plumbing they share.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKEROUTPUT_KEY = "lattice_step_counts"


@dataclass
class MachineCount:
    examples: int = 0
    steps: int = 0
    invariant_passes: int = 0  # every @invariant method run (after initialisation and after each step)
    checks: int = 0  # elementary assertions those passes made (one per object inspected)
    rules: Counter[str] = field(default_factory=Counter)

    def step(self, rule: str) -> None:
        self.steps += 1
        self.rules[rule] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "steps": self.steps,
            "invariant_passes": self.invariant_passes,
            "checks": self.checks,
            "rules": dict(sorted(self.rules.items())),
        }

    def merge(self, other: dict[str, Any]) -> None:
        self.examples += int(other["examples"])
        self.steps += int(other["steps"])
        self.invariant_passes += int(other["invariant_passes"])
        self.checks += int(other["checks"])
        self.rules.update(other["rules"])


COUNTS: dict[str, MachineCount] = {}


def counter(machine: str) -> MachineCount:
    """This process's count for `machine`, created on first use."""
    return COUNTS.setdefault(machine, MachineCount())


def snapshot() -> dict[str, dict[str, Any]]:
    return {name: count.as_json() for name, count in COUNTS.items()}


def merge_into(total: dict[str, MachineCount], counts: dict[str, dict[str, Any]]) -> None:
    for name, values in counts.items():
        total.setdefault(name, MachineCount()).merge(values)


def summary_lines(total: dict[str, MachineCount]) -> list[str]:
    lines = []
    for name, count in sorted(total.items()):
        lines.append(
            f"{name}: {count.examples} examples, {count.steps} steps, "
            f"{count.invariant_passes} invariant passes, {count.checks} checks"
        )
        lines.append("    rules: " + ", ".join(f"{rule} {n}" for rule, n in sorted(count.rules.items())))
    return lines


def write(path: Path, total: dict[str, MachineCount]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({name: c.as_json() for name, c in sorted(total.items())}, indent=1) + "\n")
