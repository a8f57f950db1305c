"""Perf records: one per run, kept under logs/ (the run's artifacts); perf/history.jsonl and
perf/baseline.json are tracked and change only when asked (`--record`, `--accept`), so a run leaves the
tree clean."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The tracked history: the runs someone chose to keep (`nox -s perf -- --record`), which the dashboard plots.
HISTORY = Path("perf/history.jsonl")
# Every run's record, where CI keeps its artifacts (logs/ is ignored by git).
RUN_HISTORY = Path("logs/perf-history.jsonl")
# The lattice's telemetry for the perf suite (JSON lines, one per test); the run's record is added to it
# as one more line, {"record": "perf-run", "ratios": {...}, "figures": {...}, ...}.
LAST_RUN = Path("logs/perf.json")
BASELINE = Path("perf/baseline.json")

Record = dict[str, Any]


def commit_sha() -> str | None:
    """HEAD's sha (with `+dirty` when the tree has changes), or None outside a git checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha


def machine() -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "cpus": os.cpu_count(), "platform": platform.platform()}


def new_record(provider: str, figures: dict[str, Any], ratios: dict[str, float]) -> Record:
    """One run: its figures, and its ratios (ours / anchor), which the baseline comparison reads."""
    return {
        "ratios": ratios,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit_sha(),
        "machine": machine(),
        "provider": provider,
        "figures": figures,
    }


def write_last_run(record: Record, path: Path = LAST_RUN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps({"record": "perf-run", **record}, sort_keys=True) + "\n")


def append(record: Record, path: Path = HISTORY) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def load_history(path: Path = HISTORY) -> list[Record]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            records.append(json.loads(line))
    return records


def load_baseline(path: Path = BASELINE) -> Record | None:
    if not path.is_file():
        return None
    baseline: Record = json.loads(path.read_text())
    return baseline


def accept(record: Record, path: Path = BASELINE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def bookkeep(
    record: Record, *, record_history: bool, accept_run: bool, logs: Path = Path("logs")
) -> list[str]:
    """Everything a run writes: logs/perf.json and logs/perf-history.jsonl always; the tracked history
    only with `record_history`, the tracked baseline only with `accept_run`. Paths are relative to the
    working directory (the checkout, under nox). Returns what was written, one line each."""
    write_last_run(record, logs / LAST_RUN.name)
    append(record, logs / RUN_HISTORY.name)
    written = [f"this run: {logs / LAST_RUN.name}, {logs / RUN_HISTORY.name}"]
    if record_history:
        append(record)
        written.append(f"history: recorded into {HISTORY} (commit it)")
    if accept_run:
        accept(record)
        written.append(f"baseline: accepted this run ({record['commit']}) into {BASELINE} (commit it)")
    return written


def plotted_history(logs: Path = Path("logs")) -> list[Record]:
    """The tracked runs, then this checkout's own runs from logs/ (newest last)."""
    return load_history(HISTORY) + load_history(logs / RUN_HISTORY.name)
