"""`python -m tools.lattice containers setup|status|stop-engine`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from tools.lattice.config import (
    LOCAL_POSTGRES_IMAGE,
    LOCAL_REDIS_IMAGE,
    LatticeConfigError,
    LatticeSettings,
    load_settings,
)
from tools.lattice.services.base import ServiceUnavailable, announce_to_stderr
from tools.lattice.services.dockersetup import build, engine
from tools.lattice.services.dockersetup.errors import SetupError
from tools.lattice.services.engine import client, engine_missing
from tools.lattice.services.state import StateDir, open_state_dir

USE_THEM = (
    f"LATTICE_PROVIDER=containers (images: {LOCAL_POSTGRES_IMAGE} and {LOCAL_REDIS_IMAGE}, "
    "used when the official ones are absent; or set LATTICE_POSTGRES_IMAGE / LATTICE_REDIS_IMAGE)"
)


def _context() -> tuple[LatticeSettings, StateDir]:
    try:
        settings = load_settings()
    except LatticeConfigError as exc:
        raise ServiceUnavailable(str(exc)) from None
    return settings, open_state_dir(settings.state_dir)


def _setup(args: argparse.Namespace) -> int:
    settings, state = _context()
    started = time.perf_counter()
    try:
        if engine_missing(settings, budget=2.0) is None:
            print(f"engine: answers ({settings.docker_host or 'default socket'})")
        else:
            dockerd = engine.ensure_dockerd(not args.no_install, announce_to_stderr)
            engine.start_dockerd(settings, state, dockerd)
            print(
                f"engine: started {dockerd} on {engine.socket_path(settings)} (log {engine.logfile(state)})"
            )
        docker = client(settings.docker_host, timeout=300)
        try:
            for built in build.ensure_images(docker, state, force=args.rebuild):
                if built.rebuilt:
                    size = f"{built.size_bytes / 1e6:.1f} MB"
                    print(f"image: {built.image} built in {built.seconds:.1f} s ({size})")
                else:
                    print(f"image: {built.image} up to date")
        finally:
            docker.close()
    except SetupError as exc:
        raise ServiceUnavailable(str(exc)) from None
    print(f"ready in {time.perf_counter() - started:.1f} s; use it with {USE_THEM}")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings, _ = _context()
    reason = engine_missing(settings, budget=2.0)
    if reason is not None:
        print(f"engine: none answers ({reason}); run `nox -s containers -- setup`")
        return 1
    print(f"engine: answers ({settings.docker_host or 'default socket'})")
    docker = client(settings.docker_host)
    try:
        for image in (LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE):
            current = build.current_digest(docker, image)
            verdict = (
                "missing"
                if current is None
                else "up to date"
                if current == build.recipe_digest(image)
                else "stale (setup rebuilds it)"
            )
            print(f"image: {image} {verdict}")
    finally:
        docker.close()
    return 0


def _stop_engine(args: argparse.Namespace) -> int:
    _, state = _context()
    print(engine.stop_dockerd(state))
    return 0


def add_containers_commands(subparsers: Any) -> None:
    """Register `containers ...` on the top-level CLI's subparsers (argparse's private type: Any)."""
    containers = subparsers.add_parser("containers", help="a Docker engine and local images for the tier")
    commands = containers.add_subparsers(dest="containers_command", required=True, metavar="COMMAND")
    setup = commands.add_parser("setup", help="install/start an engine and build the images (idempotent)")
    setup.add_argument("--no-install", action="store_true", help="never run apt-get")
    setup.add_argument("--rebuild", action="store_true", help="build the images even when up to date")
    setup.set_defaults(handler=_setup)
    commands.add_parser("status", help="is an engine answering, are the images built").set_defaults(
        handler=_status
    )
    commands.add_parser("stop-engine", help="stop the dockerd that setup started").set_defaults(
        handler=_stop_engine
    )
