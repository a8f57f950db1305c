"""`spec diff` held against two tools' own test data (oasdiff's checker tests, openapi-diff's tests).

Each tool's directory holds the pairs `rebuild.py` kept at a pinned commit (`cases.json`), the documents
themselves (`data/`) and the project's LICENSE. `differences.toml` is the reviewed table of pairs where
`spec diff` decides otherwise on purpose, each with its reason (docs/testing.md lists them).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tools.lattice.chain.specdiff import Change, Level, diff
from tools.lattice.chain.specdiff.document import from_file
from tools.lattice.chain.specdiff.oasdiff import oasdiff_id

HERE = Path(__file__).resolve().parent
TOOLS = ("oasdiff", "openapi-diff")
DIFFERENCES_PATH = HERE / "differences.toml"


@dataclass(frozen=True)
class Case:
    tool: str
    name: str
    base: Path
    revision: Path
    expected: str  # "breaking" | "compatible"
    ids: dict[str, str]  # oasdiff: the check ids the test asserts, with their levels
    scope: frozenset[str]  # oasdiff ids the verdict is about (one check ran); empty: the whole pair

    @property
    def key(self) -> str:
        return f"{self.tool}:{self.name}"


@cache
def table(tool: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / tool / "cases.json").read_text(encoding="utf-8"))
    return loaded


def cases(tool: str) -> list[Case]:
    return [
        Case(
            tool,
            raw["name"],
            HERE / tool / raw["base"],
            HERE / tool / raw["revision"],
            raw["expected"],
            raw.get("ids", {}),
            frozenset(raw.get("scope", ())),
        )
        for raw in table(tool)["cases"]
    ]


def breaking_ids(case: Case) -> list[str]:
    """The breaking check ids `spec diff` finds in the pair (within the case's scope), at default levels."""
    changes = _changes(case.base, case.revision)
    found = {c.id for c in changes if c.level is Level.BREAKING}
    if case.scope:
        found = {i for i in found if oasdiff_id(i) in case.scope}
    return sorted(found)


@cache
def _changes(base: Path, revision: Path) -> list[Change]:
    return diff(from_file(base).document, from_file(revision).document)


def verdict(case: Case) -> str:
    return "breaking" if breaking_ids(case) else "compatible"


@cache
def differences() -> dict[str, str]:
    """`tool:case name` → the reason `spec diff` decides otherwise."""
    data = tomllib.loads(DIFFERENCES_PATH.read_text(encoding="utf-8"))
    return {key: entry["reason"] for entry in data.get("difference", []) for key in entry["cases"]}


@dataclass(frozen=True)
class Score:
    pairs: int
    agreement: float
    precision: float
    recall: float
    documented: int  # disagreements listed in differences.toml (counted as agreement)
    undocumented: tuple[str, ...]


def score(tool: str, count_documented: bool = True) -> Score:
    """Agreement, precision and recall of "breaking" against the tool's stated verdicts."""
    known = differences() if count_documented else {}
    tp = fp = fn = agree = documented = 0
    wrong: list[str] = []
    for case in cases(tool):
        ours = verdict(case)
        if ours == case.expected or case.key in known:
            agree += 1
            documented += ours != case.expected
            expected = ours  # a documented difference counts as agreement
        else:
            expected = case.expected
            wrong.append(f"{case.key} (theirs {case.expected}, ours {ours})")
        tp += ours == "breaking" and expected == "breaking"
        fp += ours == "breaking" and expected != "breaking"
        fn += ours != "breaking" and expected == "breaking"
    total = len(cases(tool))
    return Score(
        total,
        agree / total,
        tp / (tp + fp) if tp + fp else 1.0,
        tp / (tp + fn) if tp + fn else 1.0,
        documented,
        tuple(wrong),
    )
