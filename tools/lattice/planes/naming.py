"""Names of everything a run and its workers own, so a stray schema or key tells whose it was."""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_RUN_ID = re.compile(r"^[0-9a-f]{12}$")


def new_run_id() -> str:
    """Eight hex digits of the start time (seconds) and four random ones: sortable, unique, short."""
    return f"{int(time.time()):08x}{secrets.token_hex(2)}"


def run_started_at(run_id: str) -> float:
    return float(int(run_id[:8], 16)) if _RUN_ID.match(run_id) else 0.0


def runs_root() -> Path:
    return Path(tempfile.gettempdir()) / "retrace_tests"


@dataclass(frozen=True)
class WorkerNames:
    """What worker `gwN` of run `R` owns, on each of the five planes."""

    run_id: str
    index: int

    @property
    def tag(self) -> str:
        return f"w{self.index}"

    @property
    def schema(self) -> str:
        return f"test_{self.tag}_{self.run_id}"

    @property
    def redis_namespace(self) -> str:
        return f"lattice:{self.run_id}:{self.tag}"

    @property
    def queue_suffix(self) -> str:
        return f"__{self.tag}"

    @property
    def directory(self) -> Path:
        return runs_root() / self.run_id / self.tag

    def email(self, role: str = "user") -> str:
        return f"test_{role}_{self.tag}_{self.run_id}@example.test"


def worker_index(worker_id: str) -> int:
    """`gw3` -> 3; a run without xdist is worker 0."""
    return int(worker_id[2:]) if worker_id.startswith("gw") and worker_id[2:].isdigit() else 0
