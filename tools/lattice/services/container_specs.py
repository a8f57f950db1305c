"""How each server's container is described to testcontainers: which of its classes, what wait.

Official images (and any other the settings name) go through testcontainers' PostgreSQL and Redis
modules, which wait the way those images need (psql inside the container, a ping). The images
`containers setup` builds from this machine's files have no shell, psql or entrypoint: they go
through its generic DockerContainer with a wait strategy that connects from here. Imported only when
a containers set starts: testcontainers takes seconds to import on a loaded machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import redis
from testcontainers.community.postgres import PostgresContainer
from testcontainers.community.redis import PingWaitStrategy, RedisContainer
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from tools.lattice.config import LatticeSettings
from tools.lattice.services.base import ServiceUnavailable
from tools.lattice.services.engine import client_environment, published_host, root_cause
from tools.lattice.services.images import Image
from tools.lattice.services.labels import labels_for

READY_TIMEOUT = 60.0  # the official postgres image runs initdb at every start
POLL = 0.05  # seconds between readiness probes (testcontainers' default is 1 s)
# The same commands suit the official images (their entrypoints pass them through) and the local
# ones built by `containers setup` (binaries on PATH, PGDATA set, data dir initialised in the image).
POSTGRES_COMMAND = [
    "postgres",
    *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
    *("-c", "listen_addresses=*"),
]
REDIS_COMMAND = [
    "redis-server",
    *("--save", "", "--appendonly", "no", "--databases", "64", "--protected-mode", "no"),
]
PORTS = {"postgres": 5432, "redis": 6379}


class _OnLatticeHost:
    """Published ports answer where the settings say (`published_host`). testcontainers guesses the
    default gateway when it runs inside a container (right for Docker-in-Docker, wrong for an engine
    beside us, as `containers setup` starts); TC_HOST, its own override, still wins."""

    lattice_host = "127.0.0.1"

    def get_container_host_ip(self) -> str:
        return testcontainers_config.tc_host_override or self.lattice_host


class _Generic(_OnLatticeHost, DockerContainer):
    pass


class _Postgres(_OnLatticeHost, PostgresContainer):
    pass


class _Redis(_OnLatticeHost, RedisContainer):
    pass


def url(container: DockerContainer, role: str) -> str:
    where = f"{container.get_container_host_ip()}:{container.get_exposed_port(PORTS[role])}"
    return f"postgresql://postgres@{where}/postgres" if role == "postgres" else f"redis://{where}/0"


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


def _redis_answers(url: str) -> bool:
    client_ = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client_.ping())
    except redis.RedisError:
        return False
    finally:
        client_.close()


def _logs_tail(container: Any, lines: int = 3) -> str:
    try:
        text = container.logs(tail=lines).decode(errors="replace").strip()
    except Exception as exc:  # the container may be gone already
        return f"(no logs: {root_cause(exc)})"
    return " | ".join(text.splitlines()) or "(empty log)"


class AnswersAtItsUrl(WaitStrategy):
    """Ready when the server answers at the URL the set hands out (a connection from here, not a
    command inside the container: the local images have no shell); a container that exits is a
    failure at once, with its last log lines."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        self.answers: Callable[[str], bool] = _postgres_answers if role == "postgres" else _redis_answers
        self.with_startup_timeout(int(READY_TIMEOUT)).with_poll_interval(POLL)

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        assert isinstance(container, DockerContainer)
        where = url(container, self.role)
        wrapped = container.get_wrapped_container()
        deadline = time.monotonic() + self._startup_timeout
        while not self.answers(where):
            wrapped.reload()
            if wrapped.status in ("exited", "dead"):
                raise ServiceUnavailable(
                    f"lattice: container {wrapped.name} ({container.image}) exited while starting: "
                    f"{_logs_tail(wrapped)}"
                )
            if time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"lattice: container {wrapped.name} did not answer within {self._startup_timeout:.0f}s: "
                    f"{_logs_tail(wrapped)}"
                )
            time.sleep(self._poll_interval)


def container_for(image: Image, role: str, set_id: str, settings: LatticeSettings) -> DockerContainer:
    client_kw = {"environment": client_environment(settings.docker_host), "timeout": 60}
    container: _Generic | _Postgres | _Redis
    if image.local_build:
        container = _Generic(image.name, docker_client_kw=client_kw).waiting_for(AnswersAtItsUrl(role))
    elif role == "postgres":
        # The module's own wait (psql inside the container) and credentials; trust keeps the URL
        # password-free like every other tier's.
        container = _Postgres(
            image.name,
            username="postgres",
            password="postgres",  # noqa: S106 (ignored: the server trusts every connection)
            dbname="postgres",
            driver=None,
            docker_client_kw=client_kw,
        ).with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
    else:
        container = _Redis(image.name, docker_client_kw=client_kw).waiting_for(
            PingWaitStrategy().with_poll_interval(POLL).with_startup_timeout(int(READY_TIMEOUT))
        )
    container.lattice_host = published_host(settings)
    container.with_command(POSTGRES_COMMAND if role == "postgres" else REDIS_COMMAND)
    container.with_name(f"retrace-lattice-{set_id}-{role}")
    # One call: with_kwargs replaces what an earlier one set.
    container.with_kwargs(
        labels=labels_for(set_id, role), **({"shm_size": "256m"} if role == "postgres" else {})
    )
    port = PORTS[role]
    container.ports.pop(str(port), None)  # the modules expose it unbound; ours binds it below
    # Loopback only when the engine is local: the servers trust every connection. (docker-py takes
    # (host ip, port); testcontainers types the value as a port alone.)
    local = container.lattice_host == "127.0.0.1"
    container.ports[f"{port}/tcp"] = ("127.0.0.1", None) if local else None  # type: ignore[assignment]
    return container
