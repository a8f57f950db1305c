"""CPU time of the processes behind an operation, read from the kernel (/proc/<pid>/stat), around a batch.

The capacity model divides each process's CPU time over a measured batch by the operations it served:
the API process, the worker process, and PostgreSQL (its postmaster and every backend it forked, found
from a connection's own backend). Clock ticks are 10 ms, so a batch must take seconds, not milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

TICKS = os.sysconf("SC_CLK_TCK")

PidSource = Callable[[], Iterable[int]]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the command name may hold spaces; fields after it do not


def process_ticks(pid: int | None) -> int | None:
    """utime + stime of `pid` in clock ticks, or None (no pid, or it is gone)."""
    fields = None if pid is None else _stat_fields(pid)
    return None if fields is None else int(fields[11]) + int(fields[12])


def parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == parent:
            found.append(int(entry.name))
    return found


def postgres_pids(engine: Engine) -> PidSource | None:
    """The server's postmaster and its children, or None when its processes are not visible from here
    (another machine, or a container's own process namespace)."""
    with engine.connect() as connection:
        backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        postmaster = parent_of(backend)
    if postmaster is None or postmaster <= 1:
        return None
    return lambda: [postmaster, *children_of(postmaster)]


def fixed(*pids: int) -> PidSource:
    return lambda: pids


@dataclass
class CpuReading:
    """CPU seconds per named process group over one block (filled when the block ends)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def ms_per(self, name: str, operations: int) -> float | None:
        return (
            round(self.seconds[name] * 1000 / operations, 3) if name in self.seconds and operations else None
        )


@contextmanager
def cpu_time(groups: dict[str, PidSource | None]) -> Iterator[CpuReading]:
    """CPU seconds each group of processes spent inside the block (a process born inside counts whole)."""
    reading = CpuReading()
    sources = {name: source for name, source in groups.items() if source is not None}
    before = {name: _ticks(source()) for name, source in sources.items()}
    yield reading
    for name, source in sources.items():
        after = _ticks(source())
        reading.seconds[name] = sum(t - before[name].get(pid, 0) for pid, t in after.items()) / TICKS


def _ticks(pids: Iterable[int]) -> dict[int, int]:
    found = {pid: process_ticks(pid) for pid in pids}
    return {pid: t for pid, t in found.items() if t is not None}
