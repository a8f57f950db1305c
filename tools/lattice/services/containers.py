"""The containers tier: PostgreSQL and Redis containers on a Docker engine, through testcontainers.

testcontainers starts them and waits until they answer (`container_specs` says with which of its
classes); Ryuk, its reaper, runs where its image is on the engine (see `ryuk`). On top of that every
container carries the lattice's labels and the set a run record, so `services status/down/reap`
work and any later start sweeps a dead owner's containers: testcontainers keeps no record of a set,
and without Ryuk nothing of its own reaps.
"""

from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tools.lattice.config import LatticeSettings
from tools.lattice.services import lifecycle, process, registry, ryuk
from tools.lattice.services.base import Announce, ServiceSet, ServiceUnavailable, announce_to_stderr
from tools.lattice.services.engine import DECISION_BUDGET, client, engine_missing, root_cause
from tools.lattice.services.images import Images, ImagesMissing, resolve
from tools.lattice.services.labels import remove_set, sweep_orphans
from tools.lattice.services.state import open_state_dir

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

__all__ = ["DECISION_BUDGET", "ImagesUnavailable", "engine_missing", "start_containers"]


class ImagesUnavailable(ServiceUnavailable):
    """The engine answers but lacks an image and cannot pull it (auto-detection falls back)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"lattice: containers tier: {reason}")
        self.reason = reason


def _images(engine: Any, settings: LatticeSettings) -> Images:
    try:
        return resolve(engine, settings)
    except ImagesMissing as exc:
        raise ImagesUnavailable(str(exc)) from None


def start_containers(settings: LatticeSettings, announce: Announce = announce_to_stderr) -> ServiceSet:
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
        ryuk.prepare(engine, settings.docker_host, announce)
        return _start(images, settings)
    except ServiceUnavailable:
        raise
    except Exception as exc:  # docker.errors.*, requests' and testcontainers' errors: one line
        raise ServiceUnavailable(f"lattice: containers failed to start: {root_cause(exc)}") from None
    finally:
        engine.close()


def _close(containers: list[DockerContainer]) -> None:
    for container in containers:
        container.get_docker_client().client.close()


def _start(images: Images, settings: LatticeSettings) -> ServiceSet:
    from tools.lattice.services.container_specs import PORTS, container_for, url

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
    postgres = container_for(images.postgres, "postgres", set_id, settings)
    redis_container = container_for(images.redis, "redis", set_id, settings)
    try:
        # Both at once: each start() waits until its server answers. (Ryuk, when on, was created
        # before this under a lock: its creation is what races between threads.)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lattice-container") as pool:
            started = [pool.submit(c.start) for c in (postgres, redis_container)]
            for future in started:
                future.result()
        record.containers = [
            registry.ContainerRecord(
                role, c.get_wrapped_container().id or "", c.get_exposed_port(PORTS[role])
            )
            for role, c in (("postgres", postgres), ("redis", redis_container))
        ]
        registry.write_run(state, record)
        database_url, redis_url = url(postgres, "postgres"), url(redis_container, "redis")
    except BaseException:
        remove_set(set_id, settings.docker_host)
        registry.remove_run(state, set_id)
        _close([postgres, redis_container])
        raise

    def stop() -> None:
        # By label, not testcontainers' stop(): a removal another run's sweep began is waited for.
        failure = remove_set(set_id, settings.docker_host)
        if failure is None:
            registry.remove_run(state, set_id)
        _close([postgres, redis_container])
        lifecycle.untrack(set_id)

    service_set = ServiceSet(set_id, "containers", database_url, redis_url, stop)
    lifecycle.track(service_set)
    return service_set
