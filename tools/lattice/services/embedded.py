"""The embedded tier: PostgreSQL and Redis binaries from pip packages, on free loopback ports, in a
private dir on tmpfs (the disk is ~10x slower at creating the data dir's many files)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.config import LatticeSettings, fast_temp_root
from tools.lattice.services import lifecycle, pg_server, process, redis_server, registry
from tools.lattice.services.base import Announce, ServiceSet, ServiceUnavailable, free_port
from tools.lattice.services.state import StateDir, open_state_dir

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3
_PORT_TAKEN = ("Address already in use", "could not bind")


@dataclass
class _Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    answers: Callable[[int], bool]


class _PortRace(Exception):
    """Another process took a port between our probe and the server's bind: pick new ports."""


def _make_private_dir(set_id: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"retrace-lattice-{set_id}-", dir=fast_temp_root()))
    # Traversable (not listable) by the unprivileged PostgreSQL account, which owns its data dir.
    path.chmod(0o711)
    return path


def _log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def _wait_ready(servers: list[_Server], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(servers)
    while pending:
        for server in list(pending):
            if server.proc.poll() is not None:
                tail = _log_tail(server.log)
                if any(marker in tail for marker in _PORT_TAKEN):
                    raise _PortRace(server.name)
                raise ServiceUnavailable(
                    f"lattice: embedded {server.name} exited ({server.proc.returncode}) "
                    f"while starting: {tail}"
                )
            if server.answers(server.port):
                pending.remove(server)
        if pending and time.monotonic() > deadline:
            names = ", ".join(f"{s.name} (port {s.port}): {_log_tail(s.log)}" for s in pending)
            raise ServiceUnavailable(
                f"lattice: embedded servers did not answer within {timeout:.0f}s: {names}"
            )
        if pending:
            time.sleep(0.005)


def _halt(servers: list[_Server], timeout: float = STOP_TIMEOUT) -> None:
    for server in servers:
        if server.proc.poll() is None:
            if server.name == "redis" and redis_server.shut_down(server.port):
                continue
            server.proc.send_signal(registry.STOP_SIGNALS[server.name])
    for server in servers:
        try:
            server.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def _discard(state: StateDir, set_id: str, private: Path) -> None:
    pg_server.release_shared_memory(private)
    shutil.rmtree(private, ignore_errors=True)
    registry.remove_run(state, set_id)


def _launch(
    install: pg_server.PgInstall,
    data: Path,
    private: Path,
    run_as: process.RunAs | None,
    detach: bool,
) -> list[_Server]:
    redis_binary = redis_server.executable()
    for _attempt in range(PORT_ATTEMPTS):
        # Detached sets must outlive the command that started them: no parent-death signal.
        preexec = None if detach else process.die_with_parent()
        pg_port, redis_port = free_port(), free_port()
        pg_log, redis_log = private / "postgres.log", private / "redis.log"
        with pg_log.open("ab") as pg_out, redis_log.open("ab") as redis_out:
            servers = [
                _Server(
                    "postgres",
                    pg_server.start(install, data, pg_port, run_as, preexec, pg_out),
                    pg_port,
                    pg_log,
                    pg_server.answers,
                ),
                _Server(
                    "redis",
                    redis_server.start(redis_binary, private / "redis", redis_port, preexec, redis_out),
                    redis_port,
                    redis_log,
                    redis_server.answers,
                ),
            ]
        try:
            _wait_ready(servers, READY_TIMEOUT)
        except _PortRace:
            _halt(servers)
            continue
        except BaseException:
            _halt(servers)
            raise
        return servers
    raise ServiceUnavailable(f"lattice: no free loopback ports after {PORT_ATTEMPTS} attempts")


@dataclass
class _InPlace:
    """Stops and restarts one server of a running set on its port and data (fault drills)."""

    install: pg_server.PgInstall
    data: Path
    private: Path
    run_as: process.RunAs | None
    servers: list[_Server]
    state: StateDir
    record: registry.RunRecord

    def _server(self, name: str) -> _Server:
        for server in self.servers:
            if server.name == name:
                return server
        raise ValueError(f"no server named {name!r} in this set (postgres, redis)")

    def stop_server(self, name: str) -> None:
        """Stop `name` cleanly: PostgreSQL by fast shutdown, Redis after saving its data."""
        server = self._server(name)
        if server.proc.poll() is not None:
            return
        if not (name == "redis" and redis_server.shut_down(server.port, save=True)):
            server.proc.send_signal(registry.STOP_SIGNALS[name])
        try:
            server.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()

    def start_server(self, name: str) -> None:
        """Start `name` again on the same port and data; returns once it answers."""
        old = self._server(name)
        if old.proc.poll() is None:
            return
        with old.log.open("ab") as out:
            if name == "postgres":
                proc = pg_server.start(
                    self.install, self.data, old.port, self.run_as, process.die_with_parent(), out
                )
            else:
                proc = redis_server.start(
                    redis_server.executable(),
                    self.private / "redis",
                    old.port,
                    process.die_with_parent(),
                    out,
                )
        new = _Server(name, proc, old.port, old.log, old.answers)
        self.servers[self.servers.index(old)] = new  # in place: the set's stop() halts the new one
        _wait_ready([new], READY_TIMEOUT)
        self.record.servers = [
            registry.ServerRecord(
                s.name, s.proc.pid, process.start_time(s.proc.pid), s.port, int(registry.STOP_SIGNALS[s.name])
            )
            for s in self.servers
        ]
        registry.write_run(self.state, self.record)


def start_embedded(settings: LatticeSettings, announce: Announce, *, detach: bool = False) -> ServiceSet:
    state = open_state_dir(settings.state_dir)
    run_as = process.unprivileged_account()
    install = pg_server.locate_install(state, run_as)
    if not pg_server.template_ready(install, state):
        announce(f"lattice: preparing PostgreSQL {install.version} template data dir (once per version)")
    template = pg_server.ensure_template(install, state, run_as)
    set_id = f"emb-{secrets.token_hex(3)}"
    private = _make_private_dir(set_id)
    me = os.getpid()
    record = registry.RunRecord(
        id=set_id,
        provider="embedded",
        owner_pid=me,
        owner_started=process.start_time(me),
        detached=detach,
        private_dir=str(private),
        started_at=time.time(),
    )
    # Recorded before anything runs, so a crash mid-start still leaves the reaper a trail.
    registry.write_run(state, record)
    try:
        data = pg_server.prepare_data_dir(template, private, run_as)
        servers = _launch(install, data, private, run_as, detach)
        record.servers = [
            registry.ServerRecord(
                s.name, s.proc.pid, process.start_time(s.proc.pid), s.port, int(registry.STOP_SIGNALS[s.name])
            )
            for s in servers
        ]
        registry.write_run(state, record)
    except BaseException:
        _discard(state, set_id, private)
        raise

    def stop() -> None:
        _halt(servers)
        _discard(state, set_id, private)
        lifecycle.untrack(set_id)

    pg, rd = servers
    control = _InPlace(install, data, private, run_as, servers, state, record)
    service_set = ServiceSet(
        set_id, "embedded", pg_server.url(pg.port), redis_server.url(rd.port), stop, control=control
    )
    if not detach:
        lifecycle.track(service_set)
    return service_set
