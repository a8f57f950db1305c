"""The Docker engine, as the containers tier sees it: is one answering, and a client for it."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tools.lattice.config import DEFAULT_DOCKER_SOCKET, LatticeSettings

if TYPE_CHECKING:
    import docker

DECISION_BUDGET = 0.45  # seconds; "is there an engine?" must never slow a bare machine down


def root_cause(exc: BaseException) -> str:
    """The innermost reason of an exception chain, as one short line."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    for arg in exc.args:
        if isinstance(arg, BaseException):
            return root_cause(arg)
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{type(exc).__name__}: {text}"[:160]


def client_environment(docker_host: str | None) -> dict[str, str]:
    """The environment `docker.from_env` reads, with DOCKER_HOST as the settings say (None: the
    default socket)."""
    environment = dict(os.environ)
    if docker_host is not None:
        environment["DOCKER_HOST"] = docker_host
    else:
        environment.pop("DOCKER_HOST", None)
    return environment


def client(docker_host: str | None, timeout: float = 60.0) -> docker.DockerClient:
    """A client for the engine at `docker_host` (DOCKER_HOST as the settings read it), else the
    default socket."""
    import docker

    return docker.from_env(environment=client_environment(docker_host), timeout=timeout)


def published_host(settings: LatticeSettings) -> str:
    """Where the engine's published ports answer: loopback for a local engine, else its host."""
    if settings.docker_host and settings.docker_host.startswith(("tcp://", "http://", "https://")):
        return urlsplit(settings.docker_host).hostname or "127.0.0.1"
    return "127.0.0.1"


def engine_missing(settings: LatticeSettings, budget: float = DECISION_BUDGET) -> str | None:
    """Why no Docker engine can be used, or None when one answers; decided within `budget`."""
    if settings.docker_host is None and not DEFAULT_DOCKER_SOCKET.exists():
        # The common bare-machine case, answered without importing docker (≈ 0.3 s).
        return f"DOCKER_HOST unset and no {DEFAULT_DOCKER_SOCKET}"
    if settings.docker_host is not None and settings.docker_host.startswith("unix://"):
        socket_path = settings.docker_host.removeprefix("unix://")
        if not os.path.exists(socket_path):
            return f"FileNotFoundError: no socket {socket_path} (DOCKER_HOST)"
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the 'docker' package is not installed"
    outcome: list[str | None] = []

    def ping() -> None:
        try:
            engine = client(settings.docker_host, timeout=budget)
            try:
                engine.ping()
            finally:
                engine.close()
            outcome.append(None)
        except Exception as exc:  # any failure means "no usable engine", with its reason
            outcome.append(root_cause(exc))

    # A thread bounds the wait even when a TCP DOCKER_HOST silently drops packets.
    probe = threading.Thread(target=ping, name="lattice-docker-ping", daemon=True)
    probe.start()
    probe.join(budget)
    if not outcome:
        return f"engine did not answer within {budget}s"
    return outcome[0]
