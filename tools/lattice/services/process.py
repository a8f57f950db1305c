"""Process identity, privilege drop and parent-death wiring for the servers the lattice starts."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account PostgreSQL runs under when we are root (it refuses root)."""

    uid: int
    gid: int


def unprivileged_account() -> RunAs | None:
    """`nobody` when running as root, else None (run servers as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return RunAs(65534, 65534)
    return RunAs(entry.pw_uid, entry.pw_gid)


def start_time(pid: int) -> int | None:
    """Kernel start time of `pid` (clock ticks since boot), or None if it is gone or a zombie.

    Paired with the pid it names one process for good, so a reused pid is never mistaken for ours.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            raw = stat.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may contain spaces and parentheses: fields start after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    state, started = fields[0], fields[19]
    if state in ("Z", "X"):
        return None
    return int(started)


def is_alive(pid: int, started: int | None) -> bool:
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def wait_gone(pid: int, started: int | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_alive(pid, started):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def signal_if_alive(pid: int, started: int | None, sig: int) -> None:
    if is_alive(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def terminate(pid: int, started: int | None, sig: int, timeout: float = 10.0) -> None:
    """Ask politely with `sig`, then SIGKILL if it has not gone within `timeout`."""
    signal_if_alive(pid, started, sig)
    if not wait_gone(pid, started, timeout):
        signal_if_alive(pid, started, signal.SIGKILL)
        wait_gone(pid, started, 5.0)


def stop_child(process: subprocess.Popen[Any], sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
    """Stop a child we spawned: `sig` first (a graceful shutdown), SIGKILL if it outlives `timeout`."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` making the child receive SIGKILL when the thread that spawned it dies.

    It must run after the uid change (the kernel clears the setting on a credential change), which
    is where `subprocess` calls preexec_fn. libc is loaded here, before fork, to keep the child's
    work between fork and exec minimal.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            # The parent died between fork and prctl: the signal will never come.
            os._exit(1)

    return preexec
