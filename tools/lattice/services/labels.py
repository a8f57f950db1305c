"""Containers the lattice starts carry labels, so any process can find and remove them (no Ryuk).

`retrace.lattice.set` names the set (its run record's id); `retrace.lattice.owner` names the process
that started it (host, pid and kernel start time), so containers whose owner died without a record
left to say so are still found.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from tools.lattice.services import process
from tools.lattice.services.engine import client, root_cause

LABEL = "retrace.lattice"
LABEL_SET = "retrace.lattice.set"
LABEL_OWNER = "retrace.lattice.owner"
LABEL_ROLE = "retrace.lattice.role"


def owner_label() -> str:
    me = os.getpid()
    return f"{socket.gethostname()}:{me}:{process.start_time(me)}"


def labels_for(set_id: str, role: str) -> dict[str, str]:
    return {LABEL: "1", LABEL_SET: set_id, LABEL_OWNER: owner_label(), LABEL_ROLE: role}


def _owner_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's, or not ours to judge
    return not process.is_alive(int(pid), int(started) if started.isdigit() else None)


REMOVAL_WAIT = 30.0  # seconds another process's removal of a container may take before ours gives up


def _wait_removed(container: Any, conflict: Exception) -> None:
    import docker.errors

    deadline = time.monotonic() + REMOVAL_WAIT
    while time.monotonic() < deadline:
        try:
            container.reload()
        except docker.errors.NotFound:
            return
        time.sleep(0.05)
    raise conflict


def _remove(containers: list[Any]) -> None:
    import docker.errors

    for container in containers:
        try:
            container.remove(force=True, v=True)  # v: the official postgres image's anonymous volume
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            # 409 "removal already in progress": another run's sweep or reap got there first (any run
            # may sweep a dead owner's containers). Theirs finishing is ours succeeding.
            if exc.status_code != 409:
                raise
            _wait_removed(container, exc)


def remove_set(set_id: str, docker_host: str | None) -> str | None:
    """Remove every container of set `set_id`; returns why it could not (the engine is gone), or None."""
    try:
        engine = client(docker_host, timeout=30)
        try:
            _remove(engine.containers.list(all=True, filters={"label": f"{LABEL_SET}={set_id}"}))
        finally:
            engine.close()
    except Exception as exc:  # an engine that stopped answering: leave the record for a later reap
        return root_cause(exc)
    return None


def sweep_orphans(docker_host: str | None) -> list[str]:
    """Remove containers whose owner process is dead on this host; returns their set ids."""
    engine = client(docker_host, timeout=30)
    try:
        orphans = [
            c
            for c in engine.containers.list(all=True, filters={"label": LABEL})
            if _owner_dead(c.labels.get(LABEL_OWNER, ""))
        ]
        _remove(orphans)
    finally:
        engine.close()
    return sorted({c.labels.get(LABEL_SET, "?") for c in orphans})
