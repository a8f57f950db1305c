"""What the live stack holds, read from outside: blob files, the API process's database connections
(pg_stat_activity, matched by the client ports the process owns), its RSS, and new lines of its log."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text

T = TypeVar("T")


def blob_files(root: Path) -> dict[str, str]:
    """Every file under the blob dir (`.part` ones included, by their name) -> its sha256."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.glob("*/*")
        if path.is_file()
    }


def blob_names(root: Path) -> set[str]:
    """The names of the files under the blob dir (`.part` ones included), without reading them."""
    return {path.name for path in root.glob("*/*") if path.is_file()}


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def local_tcp_ports(pid: int) -> set[int]:
    """The local ports of the TCP sockets a process holds (its client ends, e.g. to PostgreSQL)."""
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass(frozen=True)
class Backend:
    pid: int
    state: str
    seconds_in_state: float
    query: str


def backends_of(engine: Engine, pid: int) -> list[Backend]:
    """The PostgreSQL backends serving process `pid` (its pooled connections), with their state."""
    ports = sorted(local_tcp_ports(pid))
    if not ports:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid, coalesce(state, '') AS state,"
                " extract(epoch FROM now() - coalesce(state_change, now())) AS age, left(query, 200) AS query"
                " FROM pg_stat_activity WHERE client_port = ANY(:ports) AND client_addr IS NOT NULL"
                " AND datname = current_database()"
            ),
            {"ports": ports},
        ).all()
    return [Backend(int(r.pid), str(r.state), float(r.age), str(r.query)) for r in rows]


def held_in_transaction(engine: Engine, pid: int, older_than_s: float) -> list[str]:
    """The backends of process `pid` sitting `idle in transaction` for more than `older_than_s`: a
    connection held while the process waits on something else (a client's pace), shown one a line."""
    return [
        f"backend {b.pid} {b.state} for {b.seconds_in_state:.1f}s after {b.query!r}"
        for b in backends_of(engine, pid)
        if b.state.startswith("idle in transaction") and b.seconds_in_state > older_than_s
    ]


class LogTail:
    """The lines a log file gained since this object was made (or since the last `take`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def take(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        self.offset += len(data)
        return data.decode(errors="replace").splitlines()


ERROR_LINE = re.compile(r"\bERROR\b|^Traceback ")


def error_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if ERROR_LINE.search(line)]


class Timeout(AssertionError):
    pass


def poll(probe: Callable[[], T], done: Callable[[T], bool], *, timeout_s: float, what: str) -> T:
    """Call `probe` until `done(value)` holds; the last value, or an AssertionError naming `what`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise Timeout(f"{what}: not reached within {timeout_s}s (last seen: {value!r})"[:2000])
        time.sleep(0.02)
