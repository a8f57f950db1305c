"""Get a Docker engine answering: install Debian's docker.io if there is no dockerd (root only), and
start `dockerd --storage-driver=vfs --iptables=false` in the background if nothing answers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tools.lattice.config import DEFAULT_DOCKER_SOCKET, LatticeSettings
from tools.lattice.services import process
from tools.lattice.services.dockersetup.errors import SetupError
from tools.lattice.services.engine import engine_missing
from tools.lattice.services.state import StateDir

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
# vfs: no overlay filesystem needed (none works inside many containers and sandboxes); no iptables:
# published ports go through docker's userland proxy, which needs no NAT rules.
DOCKERD_ARGS = ("--storage-driver=vfs", "--iptables=false")
DOCKERD_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def socket_path(settings: LatticeSettings) -> Path:
    """The socket we would start an engine on: DOCKER_HOST's (when a unix socket) or the default."""
    host = settings.docker_host
    if host is None:
        return DEFAULT_DOCKER_SOCKET
    if host.startswith("unix://"):
        return Path(host.removeprefix("unix://"))
    raise SetupError(f"lattice: DOCKER_HOST={host} is not a local socket: start that engine yourself")


def data_root(state: StateDir) -> Path:
    """The engine's images and containers: on the state dir's tmpfs when it is one, because vfs
    copies a whole image for every container (4 s per set on this disk, well under 1 s on tmpfs)."""
    return state.root / "docker"


def pidfile(state: StateDir) -> Path:
    return state.root / "dockerd.pid"


def logfile(state: StateDir) -> Path:
    return state.root / "dockerd.log"


def _dockerd() -> str | None:
    found = shutil.which("dockerd")
    if found is not None:
        return found
    for directory in DOCKERD_DIRS:
        candidate = Path(directory) / "dockerd"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _apt_install(announce: Callable[[str], None]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "docker.io"]
    announce("lattice: installing Debian's docker.io with apt-get (once; about a minute)")
    if subprocess.run(command, env=env, capture_output=True, check=False).returncode == 0:
        return
    # A fresh machine may have no package lists yet.
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-2:])
        raise SetupError(f"lattice: apt-get install docker.io failed: {tail}")


def ensure_dockerd(install: bool, announce: Callable[[str], None]) -> str:
    """The path of dockerd, installing docker.io first when allowed and possible."""
    found = _dockerd()
    if found is not None:
        return found
    if not install:
        raise SetupError("lattice: no dockerd on this machine; install one (apt-get install docker.io)")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SetupError(
            "lattice: no dockerd on this machine; install one as root: "
            "sudo apt-get install docker.io, then run this again"
        )
    _apt_install(announce)
    found = _dockerd()
    if found is None:
        raise SetupError("lattice: docker.io installed but no dockerd found on PATH or in /usr/sbin")
    return found


def _log_tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-2:])[:300]
    except OSError:
        return "(no log)"


def start_dockerd(settings: LatticeSettings, state: StateDir, dockerd: str) -> None:
    """Start dockerd on `socket_path(settings)` in the background; returns once it answers."""
    sock = socket_path(settings)
    if os.geteuid() != 0:
        raise SetupError(
            f"lattice: no Docker engine answers on {sock}; start one as root: "
            f"sudo {dockerd} {' '.join(DOCKERD_ARGS)} -H unix://{sock} &"
        )
    sock.parent.mkdir(parents=True, exist_ok=True)
    log = logfile(state)
    with log.open("ab") as out:
        engine = subprocess.Popen(
            [
                dockerd,
                *DOCKERD_ARGS,
                *("-H", f"unix://{sock}", "--pidfile", str(pidfile(state))),
                *("--data-root", str(data_root(state)), "--exec-root", str(state.root / "docker-exec")),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not ours to stop on Ctrl-C: it serves later runs too
        )
    deadline = time.monotonic() + START_TIMEOUT
    while engine_missing(settings, budget=1.0) is not None:
        if engine.poll() is not None:
            raise SetupError(f"lattice: dockerd exited ({engine.returncode}): {_log_tail(log)} (log: {log})")
        if time.monotonic() > deadline:
            raise SetupError(f"lattice: dockerd did not answer within {START_TIMEOUT:.0f}s (log: {log})")
        time.sleep(0.1)


def stop_dockerd(state: StateDir) -> str:
    """Stop the dockerd that `start_dockerd` started (its pidfile says which); one line of outcome."""
    try:
        pid = int(pidfile(state).read_text().strip())
    except (OSError, ValueError):
        return "lattice: no engine started by `containers setup` is recorded; nothing to stop"
    started = process.start_time(pid)
    if started is None or "dockerd" not in Path(f"/proc/{pid}/comm").read_text():
        pidfile(state).unlink(missing_ok=True)
        return f"lattice: dockerd pid {pid} is not running; nothing to stop"
    process.terminate(pid, started, signal.SIGTERM, STOP_TIMEOUT)
    pidfile(state).unlink(missing_ok=True)
    return f"lattice: stopped dockerd pid {pid}"
