"""Which images the containers tier runs, and whether the engine has (or can get) them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.lattice.config import (
    LOCAL_POSTGRES_IMAGE,
    LOCAL_REDIS_IMAGE,
    OFFICIAL_POSTGRES_IMAGE,
    OFFICIAL_REDIS_IMAGE,
    RECIPE_LABEL,
    LatticeSettings,
)
from tools.lattice.services.engine import root_cause

HOW_TO_GET = (
    "build local ones with `nox -s containers -- setup` "
    "(or `python -m tools.lattice containers setup`), or pull them where a registry answers"
)


class ImagesMissing(Exception):
    """An image is neither on the engine nor pullable; the message is one line (why + how)."""


@dataclass(frozen=True)
class Image:
    name: str
    # Built by `containers setup` (no shell, psql or entrypoint): started as testcontainers' generic
    # container; any other image goes through its PostgreSQL or Redis module.
    local_build: bool


@dataclass(frozen=True)
class Images:
    postgres: Image
    redis: Image


def _present(engine: Any, name: str) -> bool:
    import docker.errors

    try:
        engine.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def is_local_build(engine: Any, name: str) -> bool:
    labels: dict[str, str] = engine.images.get(name).labels or {}
    return RECIPE_LABEL in labels


def _pull(engine: Any, name: str) -> None:
    import docker.errors

    try:
        engine.images.pull(name)
    except docker.errors.DockerException as exc:
        raise ImagesMissing(
            f"image {name} is not on the engine and cannot be pulled ({root_cause(exc)}); {HOW_TO_GET}"
        ) from None


def _one(engine: Any, configured: str | None, official: str, local: str) -> str:
    if configured is not None:
        if not _present(engine, configured):
            _pull(engine, configured)
        return configured
    # Unset: the official image if the engine has it, else the locally built one, else pull.
    for candidate in (official, local):
        if _present(engine, candidate):
            return candidate
    _pull(engine, official)
    return official


def resolve(engine: Any, settings: LatticeSettings) -> Images:
    """The images to run (LATTICE_POSTGRES_IMAGE / LATTICE_REDIS_IMAGE, else the defaults)."""
    postgres = _one(engine, settings.postgres_image, OFFICIAL_POSTGRES_IMAGE, LOCAL_POSTGRES_IMAGE)
    redis = _one(engine, settings.redis_image, OFFICIAL_REDIS_IMAGE, LOCAL_REDIS_IMAGE)
    return Images(
        postgres=Image(postgres, is_local_build(engine, postgres)),
        redis=Image(redis, is_local_build(engine, redis)),
    )
