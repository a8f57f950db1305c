"""Ryuk, testcontainers' reaper: on where its image is on the engine, else off, said in one line.

Ryuk removes a dead client's containers about 10 s after its connection drops; testcontainers starts
one per process (its session id, a uuid made at import, names it), so each xdist worker and each run
has its own and none reaps another's. It is an image to pull: with none on the engine and no
registry (this machine) every start would fail pulling it, so the tier sets
TESTCONTAINERS_RYUK_DISABLED=true when the image is absent. The lattice's label sweep (`labels`) runs
at every start either way: it is what reaps a SIGKILLed run's containers when Ryuk is off.

Two known faults of testcontainers-python are guarded here: threads of one process starting
containers at once each create `testcontainers-ryuk-<session>` and all but one get a 409 (#746), so
Ryuk is created once, under a lock, before any container starts; and a Ryuk that started but could
not be connected to stays behind under that name, making every later start a 409 (#1093), so it is
removed and Ryuk turned off for the process.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from tools.lattice.services.base import Announce
from tools.lattice.services.engine import root_cause

DISABLE = "TESTCONTAINERS_RYUK_DISABLED"

_decided: dict[str | None, bool] = {}  # per engine (DOCKER_HOST): is Ryuk on in this process
_lock = threading.Lock()


def _image() -> str:
    from testcontainers.core.config import testcontainers_config

    return testcontainers_config.ryuk_image


def _switch_off() -> None:
    from testcontainers.core.config import testcontainers_config

    # The environment for child processes (they decide again, the same way), the config object for
    # this one: testcontainers read the variable already if anything asked before us.
    os.environ[DISABLE] = "true"
    testcontainers_config.ryuk_disabled = True


def decide(engine: Any) -> tuple[bool, str]:
    """Whether Ryuk can run on `engine`, and the one line that says so."""
    import docker.errors
    from testcontainers.core.config import testcontainers_config

    if testcontainers_config.ryuk_disabled:
        return False, (
            f"lattice: containers: Ryuk off ({DISABLE} set); "
            "a killed run's containers are swept by label at the next start"
        )
    try:
        engine.images.get(_image())
    except docker.errors.ImageNotFound:
        return False, (
            f"lattice: containers: Ryuk off ({_image()} not on the engine, {DISABLE}=true); "
            "a killed run's containers are swept by label at the next start"
        )
    return True, f"lattice: containers: Ryuk on ({_image()}) reaps a killed run's containers"


def _remove_stale_reaper(engine: Any) -> None:
    import docker.errors
    from testcontainers.core.labels import SESSION_ID

    with contextlib.suppress(docker.errors.NotFound):
        engine.containers.get(f"testcontainers-ryuk-{SESSION_ID}").remove(force=True)


def prepare(engine: Any, docker_host: str | None, announce: Announce) -> bool:
    """Decide Ryuk for this process and engine (once), start it when on; True when it runs."""
    with _lock:
        if docker_host in _decided:
            return _decided[docker_host]
        on, line = decide(engine)
        if on:
            from testcontainers.core.container import Reaper

            try:
                Reaper.get_instance()
            except Exception as exc:  # Ryuk started but does not answer: the sweep takes over
                _remove_stale_reaper(engine)
                on = False
                line = (
                    f"lattice: containers: Ryuk off (it did not answer: {root_cause(exc)}); "
                    "a killed run's containers are swept by label at the next start"
                )
        if not on:
            _switch_off()
        announce(line)
        _decided[docker_host] = on
        return on


def forget() -> None:
    """Decide again at the next start (tests)."""
    with _lock:
        _decided.clear()
