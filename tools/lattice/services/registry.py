"""Run records: what each started set left on the machine, so `status`, `down` and `reap` can act.

One JSON file per set in `<state_dir>/runs/<id>.json`, written atomically (temp file + rename) so a
reader in another process never sees half a record.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.lattice.services import labels, process
from tools.lattice.services.pg_server import release_shared_memory
from tools.lattice.services.state import StateDir


@dataclass
class ServerRecord:
    name: str  # "postgres" | "redis"
    pid: int
    started: int | None  # kernel start time: guards against pid reuse
    port: int
    stop_signal: int


@dataclass
class ContainerRecord:
    name: str  # "postgres" | "redis"
    id: str
    port: int  # the published port on the engine's host


@dataclass
class RunRecord:
    id: str
    provider: str
    owner_pid: int
    owner_started: int | None
    detached: bool
    private_dir: str
    started_at: float
    servers: list[ServerRecord] = field(default_factory=list)
    containers: list[ContainerRecord] = field(default_factory=list)
    docker_host: str | None = None  # the engine that runs `containers` (None: the default socket)

    def owner_alive(self) -> bool:
        return process.is_alive(self.owner_pid, self.owner_started)

    def live_servers(self) -> list[ServerRecord]:
        return [s for s in self.servers if process.is_alive(s.pid, s.started)]

    def is_abandoned(self) -> bool:
        """True when nobody will stop this set: its owner is gone (detached sets: its servers are)."""
        if self.owner_alive():
            return False
        return not (self.detached and self.live_servers())


def _path(state: StateDir, run_id: str) -> Path:
    return state.runs / f"{run_id}.json"


def write_run(state: StateDir, record: RunRecord) -> None:
    fd, tmp = tempfile.mkstemp(dir=state.runs, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(record), out, indent=1)
    os.replace(tmp, _path(state, record.id))


def remove_run(state: StateDir, run_id: str) -> None:
    _path(state, run_id).unlink(missing_ok=True)


def read_run(state: StateDir, run_id: str) -> RunRecord | None:
    try:
        raw = json.loads(_path(state, run_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    raw["servers"] = [ServerRecord(**s) for s in raw.get("servers", [])]
    raw["containers"] = [ContainerRecord(**c) for c in raw.get("containers", [])]
    return RunRecord(**raw)


def list_runs(state: StateDir) -> list[RunRecord]:
    runs = [read_run(state, p.stem) for p in sorted(state.runs.glob("*.json"))]
    return sorted((r for r in runs if r is not None), key=lambda r: r.started_at)


def shut_down(state: StateDir, record: RunRecord, timeout: float = 10.0) -> str | None:
    """Stop a set's servers (any process may call this, not only the owner) and remove its traces.

    Returns None when done. A containers set whose engine does not answer keeps its record, for a
    later reap to finish, and the reason is returned.
    """
    if record.provider == "containers":
        failure = labels.remove_set(record.id, record.docker_host)
        if failure is None:
            remove_run(state, record.id)
        return failure
    for server in record.servers:
        process.signal_if_alive(server.pid, server.started, server.stop_signal)
    for server in record.servers:
        process.terminate(server.pid, server.started, server.stop_signal, timeout)
    if not record.private_dir:
        remove_run(state, record.id)
        return None
    private = Path(record.private_dir)
    # A killed postmaster leaves its SysV segment behind; the data dir tells which one.
    release_shared_memory(private)
    shutil.rmtree(private, ignore_errors=True)
    remove_run(state, record.id)
    return None


def reap(state: StateDir, left: Callable[[RunRecord, str], None] | None = None) -> list[RunRecord]:
    """Clean up after sets whose owner died without stopping them; returns what was removed.

    A set that could not be removed (its engine does not answer) keeps its record for a later reap,
    and is told to `left` with the reason.
    """
    removed = []
    for record in list_runs(state):
        if not record.is_abandoned():
            continue
        failure = shut_down(state, record, timeout=5.0)
        if failure is None:
            removed.append(record)
        elif left is not None:
            left(record, failure)
    return removed


def describe(record: RunRecord, now: float | None = None) -> str:
    age = (now or time.time()) - record.started_at
    servers = ", ".join(
        [
            f"{s.name} pid {s.pid}{'' if process.is_alive(s.pid, s.started) else ' (dead)'} port {s.port}"
            for s in record.servers
        ]
        + [f"{c.name} container {c.id[:12]} port {c.port}" for c in record.containers]
    )
    owner = "detached" if record.detached else f"owner pid {record.owner_pid}"
    return f"{record.id}  {record.provider}  {owner}  {servers or 'no servers'}  age {age:.0f}s"


STOP_SIGNALS = {"postgres": signal.SIGINT, "redis": signal.SIGTERM}
