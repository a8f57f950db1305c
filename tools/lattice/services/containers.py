"""The containers tier: PostgreSQL and Redis containers on a Docker engine, driven with the Docker SDK.

Not testcontainers: its Ryuk reaper is one more image to pull (impossible without a registry), its
wait strategies differ per image, and the lattice already records, labels and reaps what it starts.
Every container carries labels (see `labels`) and the set a run record, like embedded sets.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import psycopg
import redis

from ..config import LatticeSettings
from . import lifecycle, process, registry
from .base import ServiceSet, ServiceUnavailable
from .engine import DECISION_BUDGET, client, engine_missing, published_host, root_cause
from .images import Images, ImagesMissing, resolve
from .labels import labels_for, remove_set, sweep_orphans
from .state import open_state_dir

__all__ = ["DECISION_BUDGET", "ImagesUnavailable", "engine_missing", "start_containers"]

READY_TIMEOUT = 60.0  # the official postgres image runs initdb at every start
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
POSTGRES_ENV = {"POSTGRES_HOST_AUTH_METHOD": "trust"}  # the official image refuses to start without it


class ImagesUnavailable(ServiceUnavailable):
    """The engine answers but lacks an image and cannot pull it (auto-detection falls back)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"lattice: containers tier: {reason}")
        self.reason = reason


def _published_port(container: Any, port: int) -> int:
    container.reload()
    bindings = container.ports.get(f"{port}/tcp") or []
    if not bindings:
        raise ServiceUnavailable(f"lattice: container {container.name} published no port for {port}")
    return int(bindings[0]["HostPort"])


def _run(engine: Any, image: str, command: list[str], port: int, set_id: str, role: str, local: bool) -> Any:
    return engine.containers.run(
        image,
        command,
        detach=True,
        name=f"retrace-lattice-{set_id}-{role}",
        labels=labels_for(set_id, role),
        environment=POSTGRES_ENV if role == "postgres" else {},
        ports={f"{port}/tcp": ("127.0.0.1", None) if local else None},
        shm_size="256m" if role == "postgres" else None,
    )


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


def _wait_ready(checks: list[tuple[Any, str, Any]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(checks)
    while pending:
        for check in list(pending):
            container, url, answers = check
            if answers(url):
                pending.remove(check)
                continue
            container.reload()
            if container.status in ("exited", "dead"):
                raise ServiceUnavailable(
                    f"lattice: container {container.name} ({container.image.tags or container.image.id}) "
                    f"exited while starting: {_logs_tail(container)}"
                )
        if pending and time.monotonic() > deadline:
            names = ", ".join(f"{c.name}: {_logs_tail(c)}" for c, _, _ in pending)
            raise ServiceUnavailable(f"lattice: containers did not answer within {timeout:.0f}s: {names}")
        if pending:
            time.sleep(0.05)


def _images(engine: Any, settings: LatticeSettings) -> Images:
    try:
        return resolve(engine, settings)
    except ImagesMissing as exc:
        raise ImagesUnavailable(str(exc)) from None


def start_containers(settings: LatticeSettings) -> ServiceSet:
    reason = engine_missing(settings)
    if reason is not None:
        raise ServiceUnavailable(
            f"lattice: containers provider needs a Docker engine: none answers ({reason}); "
            "start one with `nox -s containers -- setup`"
        )
    engine = client(settings.docker_host)
    try:
        images = _images(engine, settings)
        sweep_orphans(settings.docker_host)
        return _start(engine, images, settings)
    except ServiceUnavailable:
        raise
    except Exception as exc:  # docker.errors.* and requests' errors: one line, no traceback
        raise ServiceUnavailable(f"lattice: containers failed to start: {root_cause(exc)}") from None
    finally:
        engine.close()


def _start(engine: Any, images: Images, settings: LatticeSettings) -> ServiceSet:
    state = open_state_dir(settings.state_dir)
    set_id = f"ctr-{secrets.token_hex(3)}"
    me = os.getpid()
    record = registry.RunRecord(
        id=set_id,
        provider="containers",
        owner_pid=me,
        owner_started=process.start_time(me),
        detached=False,
        private_dir="",
        started_at=time.time(),
        docker_host=settings.docker_host,
    )
    # Recorded before any container exists, so a crash mid-start still leaves the reaper a trail.
    registry.write_run(state, record)
    host = published_host(settings)
    local = host == "127.0.0.1"
    try:
        postgres = _run(engine, images.postgres, POSTGRES_COMMAND, 5432, set_id, "postgres", local)
        redis_container = _run(engine, images.redis, REDIS_COMMAND, 6379, set_id, "redis", local)
        pg_port, redis_port = _published_port(postgres, 5432), _published_port(redis_container, 6379)
        record.containers = [
            registry.ContainerRecord("postgres", postgres.id, pg_port),
            registry.ContainerRecord("redis", redis_container.id, redis_port),
        ]
        registry.write_run(state, record)
        database_url = f"postgresql://postgres@{host}:{pg_port}/postgres"
        redis_url = f"redis://{host}:{redis_port}/0"
        _wait_ready(
            [(postgres, database_url, _postgres_answers), (redis_container, redis_url, _redis_answers)],
            READY_TIMEOUT,
        )
    except BaseException:
        remove_set(set_id, settings.docker_host)
        registry.remove_run(state, set_id)
        raise

    def stop() -> None:
        failure = remove_set(set_id, settings.docker_host)
        if failure is None:
            registry.remove_run(state, set_id)
        lifecycle.untrack(set_id)

    service_set = ServiceSet(set_id, "containers", database_url, redis_url, stop)
    lifecycle.track(service_set)
    return service_set
