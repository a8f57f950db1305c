"""Read what runs left in their logs directories: telemetry lines, JUnit failures, and figure files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

# Figure files a run may leave beside its telemetry, merged under these names. (The perf suite's
# figures are a `{"record": "perf-run", ...}` line of its telemetry file, logs/perf.json.)
FIGURE_FILES = {"peer.json": "peer", "mutate.json": "mutate", "coverage.json": "coverage"}
# schemathesis' own JUnit lists every failure it found, allowlisted ones too: the peer gate judges them,
# and peer.json's `passed` is what raises an alert.
NOT_SUITE_RESULTS = {"peer.xml"}
_REPRODUCE = ("@reproduce_failure", "Falsifying example", "tools.lattice promote", "replay")


@dataclass
class Failure:
    test: str
    message: str
    reproduction: str
    source: str


@dataclass
class Collected:
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


_RECORD = {"run", "suite", "test", "outcome", "duration_s"}


def _telemetry_lines(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """(test records, suite figure lines) of a telemetry file; None if the file is something else.

    A suite may append a line of figures of its own: `{"run", "suite", "figures"}` (the race suite)
    or `{"record": "perf-run", "ratios", "figures", ...}` (the perf suite)."""
    rows, figures = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            return None
        if isinstance(row, dict) and row.keys() >= _RECORD:
            rows.append(row)
        elif isinstance(row, dict) and ({"run", "suite", "figures"} <= row.keys() or row.get("record")):
            figures.append(row)
        else:
            return None
    return (rows, figures) if rows else None


def _nodeid(case: ElementTree.Element) -> str:
    """JUnit's classname/name back to a pytest node id (close enough to match telemetry's)."""
    classname, name = case.get("classname", ""), case.get("name", "")
    parts = classname.split(".")
    # tests.integration.test_x[.Class] -> tests/integration/test_x.py[::Class]
    for i in range(len(parts), 0, -1):
        if parts[i - 1].startswith("test_") or parts[i - 1].endswith("_test"):
            path = "/".join(parts[:i]) + ".py"
            rest = parts[i:]
            return "::".join([path, *rest, name])
    return f"{classname}::{name}"


def _junit_failures(path: Path) -> list[Failure]:
    try:
        tree = ElementTree.parse(path)  # noqa: S314 - pytest's own JUnit files from our runs
    except ElementTree.ParseError:
        return []
    out = []
    for case in tree.iter("testcase"):
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is None:
                continue
            text = (node.text or "") + "\n" + (node.get("message") or "")
            reproduction = "\n".join(
                line.strip() for line in text.splitlines() if any(k in line for k in _REPRODUCE)
            )
            out.append(
                Failure(
                    _nodeid(case), (node.get("message") or "").strip()[:500], reproduction[:2000], str(path)
                )
            )
    return out


def collect(directories: list[Path]) -> Collected:
    found = Collected()
    for directory in directories:
        found.sources.append(str(directory))
        for path in sorted(directory.rglob("*")):
            # mutate's own pytest runs (its coverage map, its mutants) are not the suites' results
            if not path.is_file() or "mutate" in path.relative_to(directory).parts[:-1]:
                continue
            if path.name in FIGURE_FILES:
                try:
                    data = json.loads(path.read_text())
                except ValueError:
                    continue
                found.figures.setdefault(FIGURE_FILES[path.name], []).append({"source": str(path), **data})
            elif path.suffix == ".json" and (lines := _telemetry_lines(path)) is not None:
                rows, suite_figures = lines
                for figure in suite_figures:
                    kind = "perf" if figure.get("record") == "perf-run" else "suites"
                    found.figures.setdefault(kind, []).append({"source": str(path), **figure})
                for row in rows:
                    row.setdefault("shard", "")
                    row.setdefault("commit", "")
                    row["source"] = str(path)
                found.records.extend(rows)
            elif path.suffix == ".xml" and path.name not in NOT_SUITE_RESULTS:
                found.failures.extend(_junit_failures(path))
    return found
