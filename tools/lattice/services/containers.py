"""The containers tier: testcontainers PostgreSQL and Redis, when a Docker engine answers."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

from ..config import LatticeSettings
from . import lifecycle
from .base import ServiceSet, ServiceUnavailable

DECISION_BUDGET = 0.45  # seconds; "is there an engine?" must never slow a bare machine down
DEFAULT_SOCKET = Path("/var/run/docker.sock")
POSTGRES_IMAGE = "postgres:17-alpine"
REDIS_IMAGE = "redis:7-alpine"
POSTGRES_FAST = "postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    for arg in exc.args:
        if isinstance(arg, BaseException):
            return _root_cause(arg)
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{type(exc).__name__}: {text}"[:160]


def engine_missing(settings: LatticeSettings) -> str | None:
    """Why no Docker engine can be used, or None when one answers; decided within DECISION_BUDGET."""
    if settings.docker_host is None and not DEFAULT_SOCKET.exists():
        # The common bare-machine case, answered without importing docker (≈ 0.3 s).
        return f"DOCKER_HOST unset and no {DEFAULT_SOCKET}"
    try:
        import docker
    except ImportError:
        return "the 'docker' package is not installed"
    outcome: list[str | None] = []

    def ping() -> None:
        try:
            client = docker.from_env(timeout=DECISION_BUDGET)
            try:
                client.ping()
            finally:
                client.close()
            outcome.append(None)
        except Exception as exc:  # any failure means "no usable engine", with its reason
            outcome.append(_root_cause(exc))

    # A thread bounds the wait even when a TCP DOCKER_HOST silently drops packets.
    probe = threading.Thread(target=ping, name="lattice-docker-ping", daemon=True)
    probe.start()
    probe.join(DECISION_BUDGET)
    if not outcome:
        return f"engine did not answer within {DECISION_BUDGET}s"
    return outcome[0]


def start_containers(settings: LatticeSettings) -> ServiceSet:
    reason = engine_missing(settings)
    if reason is not None:
        raise ServiceUnavailable(
            f"lattice: containers provider needs a Docker engine: none answers ({reason})"
        )
    # 4.15 keeps these under testcontainers.community; the old top-level modules warn on import.
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    postgres = PostgresContainer(
        POSTGRES_IMAGE,
        username="postgres",
        password="postgres",  # noqa: S106 (a throwaway container's) dbname="postgres", driver=None
    ).with_command(POSTGRES_FAST)
    redis_container = RedisContainer(REDIS_IMAGE)
    started: list[Any] = []
    try:
        for container in (postgres, redis_container):
            container.start()
            started.append(container)
    except Exception as exc:
        for container in reversed(started):
            container.stop()
        raise ServiceUnavailable(f"lattice: containers failed to start: {_root_cause(exc)}") from None

    def stop() -> None:
        for container in reversed(started):
            container.stop()
        lifecycle.untrack(service_set.id)

    redis_url = (
        f"redis://{redis_container.get_container_host_ip()}:{redis_container.get_exposed_port(6379)}/0"
    )
    service_set = ServiceSet(
        f"ctr-{secrets.token_hex(3)}", "containers", postgres.get_connection_url(driver=None), redis_url, stop
    )
    lifecycle.track(service_set)
    return service_set
