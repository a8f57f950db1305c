"""Which images the containers tier runs, and whether the engine has (or can get) them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import (
    LOCAL_POSTGRES_IMAGE,
    LOCAL_REDIS_IMAGE,
    OFFICIAL_POSTGRES_IMAGE,
    OFFICIAL_REDIS_IMAGE,
    LatticeSettings,
)
from .engine import root_cause

HOW_TO_GET = (
    "build local ones with `nox -s containers -- setup` "
    "(or `python -m tools.lattice containers setup`), or pull them where a registry answers"
)


class ImagesMissing(Exception):
    """An image is neither on the engine nor pullable; the message is one line (why + how)."""


@dataclass(frozen=True)
class Images:
    postgres: str
    redis: str


def _present(engine: Any, name: str) -> bool:
    import docker.errors

    try:
        engine.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


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
    return Images(
        postgres=_one(engine, settings.postgres_image, OFFICIAL_POSTGRES_IMAGE, LOCAL_POSTGRES_IMAGE),
        redis=_one(engine, settings.redis_image, OFFICIAL_REDIS_IMAGE, LOCAL_REDIS_IMAGE),
    )
