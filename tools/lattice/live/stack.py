"""The service over a real port: the API server in one process, the worker in another (the target's commands).

Nothing the in-process shortcuts hide (lifespan, serialisation, process boundaries, real timeouts)
goes untested when a suite runs against this. Both processes die with the one that started them.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tools.lattice.seam.targeting import load_target
from tools.lattice.services.base import free_port
from tools.lattice.services.process import die_with_parent, stop_child


class LiveStackFailed(RuntimeError):
    """A process of the stack did not come up; the message carries the tail of its log."""


def settings_env(settings: Any) -> dict[str, str]:
    """The environment that makes a child process build exactly these settings (the target's answer)."""
    return load_target().settings_env(settings)


@dataclass
class LiveStack:
    base_url: str
    settings: Any  # the app's settings
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    def start_worker(self, settings: Any | None = None) -> subprocess.Popen[bytes]:
        """(Re)start the worker process, e.g. after a drill killed it (on other `settings` if given)."""
        self.processes["worker"] = _spawn(
            load_target().worker_command(), settings or self.settings, self.logs / "worker.log"
        )
        return self.processes["worker"]

    def start_api(self, settings: Any | None = None, timeout_s: float = 30.0) -> subprocess.Popen[bytes]:
        """(Re)start the API server on this stack's port (on other `settings` if given, e.g. a dependency
        URL through a proxy) and return once it answers its health path."""
        port = urlsplit(self.base_url).port or 80
        api_log = self.logs / "api.log"
        target = load_target()
        api = self.processes["api"] = _spawn(
            target.api_command("127.0.0.1", port), settings or self.settings, api_log
        )
        deadline = time.monotonic() + timeout_s
        while True:
            if api.poll() is not None:
                raise LiveStackFailed(f"the API server exited with {api.returncode}:\n{_tail(api_log)}")
            try:
                if httpx.get(f"{self.base_url}{target.health_path}", timeout=1.0).status_code == 200:
                    return api
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise LiveStackFailed(f"the API server did not answer within {timeout_s}s:\n{_tail(api_log)}")
            time.sleep(0.05)

    def kill(self, name: str) -> None:
        """SIGKILL one process of the stack ("api" or "worker") and reap it: no chance to clean up."""
        process = self.processes.pop(name, None)
        if process is not None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for name in ("api", "worker"):
            process = self.processes.pop(name, None)
            if process is not None:
                stop_child(process)

    def __enter__(self) -> LiveStack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _spawn(command: list[str], settings: Any, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings), "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent()
        )


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_live_stack(
    settings: Any, logs: Path, *, with_worker: bool = True, timeout_s: float = 30.0
) -> LiveStack:
    """Start the API server (and a worker) on `settings`, whose schema must already be migrated."""
    port = free_port()
    stack = LiveStack(base_url=f"http://127.0.0.1:{port}", settings=settings, logs=logs)
    if with_worker:
        stack.start_worker()
    try:
        stack.start_api(timeout_s=timeout_s)
    except LiveStackFailed:
        stack.stop()
        raise
    return stack
