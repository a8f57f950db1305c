"""The lattice's settings: the one place that reads the environment (prefix ``LATTICE_``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["external", "containers", "embedded"]
PROVIDERS: tuple[Provider, ...] = ("external", "containers", "embedded")


# The containers tier's images: the official ones for whoever can pull, and the ones built from this
# machine's own files by `python -m tools.lattice containers setup` (no registry needed).
OFFICIAL_POSTGRES_IMAGE = "postgres:17-alpine"
OFFICIAL_REDIS_IMAGE = "redis:7-alpine"
LOCAL_POSTGRES_IMAGE = "retrace-lattice/postgres:latest"
LOCAL_REDIS_IMAGE = "retrace-lattice/redis:latest"
# Every image `containers setup` builds carries this label (its recipe's digest): it tells the tier an
# image has no shell, psql or entrypoint, so testcontainers' PostgreSQL module cannot wait on it.
RECIPE_LABEL = "retrace.lattice.recipe"
DEFAULT_DOCKER_SOCKET = Path("/var/run/docker.sock")

TMPFS = Path("/dev/shm")  # noqa: S108 (a parent dir only; what goes in it is created private)
TMPFS_MIN_FREE = 512 * 1024 * 1024  # Docker's default /dev/shm is 64 MB: too small for data dirs


def fast_temp_root() -> Path:
    """tmpfs when it exists and has room, else the system temp dir.

    The disk here is slow at creating files (a PostgreSQL data dir: 1.3 s on disk, 0.1 s on
    tmpfs), and everything the lattice keeps is disposable and as short-lived as a boot.
    """
    try:
        stats = os.statvfs(TMPFS)
    except OSError:
        return Path(tempfile.gettempdir())
    roomy = stats.f_bavail * stats.f_frsize >= TMPFS_MIN_FREE and os.access(TMPFS, os.W_OK | os.X_OK)
    return TMPFS if roomy else Path(tempfile.gettempdir())


def default_state_dir() -> Path:
    # Per uid so two users on one machine never share pid files or caches; in a world-traversable
    # temp dir because the unprivileged PostgreSQL account must read the template and binaries.
    return fast_temp_root() / f"retrace-lattice-{os.getuid()}"


class LatticeConfigError(ValueError):
    """A setting has a value the lattice cannot use; the message is one line."""


class LatticeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LATTICE_", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    redis_url: str | None = None
    provider: Provider | None = None
    state_dir: Path = Field(default_factory=default_state_dir)
    # Read here (not in the containers tier) so "is there an engine?" can be answered without
    # importing the docker package (≈ 0.3 s) on machines that plainly have none.
    # (The docker package reads DOCKER_HOST again itself; this copy only decides whether to ask it.)
    docker_host: str | None = Field(default=None, validation_alias="DOCKER_HOST")
    # The containers tier's images. Unset: the official images when present or pullable, else the
    # ones `python -m tools.lattice containers setup` builds locally (LOCAL_*_IMAGE).
    postgres_image: str | None = None
    redis_image: str | None = None
    # Where docker-compose.dev.yml publishes its PostgreSQL and Redis (the file reads the same variables).
    # Both answering there with no URLs set makes them the external provider's servers.
    compose_postgres_port: int = Field(default=55432, ge=1, le=65535)
    compose_redis_port: int = Field(default=56379, ge=1, le=65535)
    # `K/N`: run the K-th of N balanced parts of a suite (tools/lattice/plugin/sharding.py);
    # --lattice-shard wins.
    shard: str | None = None
    # The commit the telemetry lines are labelled with; unset: `git rev-parse HEAD`, else GITHUB_SHA.
    commit: str | None = None

    @field_validator(
        "database_url",
        "redis_url",
        "provider",
        "docker_host",
        "postgres_image",
        "redis_image",
        "shard",
        "commit",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `LATTICE_PROVIDER= nox ...` is the shell's way to unset a variable for one command.
        return None if value == "" else value


def load_settings() -> LatticeSettings:
    """Read the settings, turning a validation error into one actionable line."""
    try:
        return LatticeSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise LatticeConfigError(
            f"lattice: bad setting LATTICE_{field.upper()}={first.get('input')!r}: {first['msg']}"
        ) from None
