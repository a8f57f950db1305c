"""What every provider hands back: a `ServiceSet`, and the one error they raise."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

Announce = Callable[[str], None]


def announce_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def announce_nothing(line: str) -> None:
    del line


class ServiceUnavailable(Exception):
    """A provider cannot give a working PostgreSQL + Redis; the message is one actionable line."""


class ServerControl(Protocol):
    """Stop and start one server of a set in place (same port, same data), for fault drills."""

    def stop_server(self, name: str) -> None: ...

    def start_server(self, name: str) -> None: ...


@dataclass
class ServiceSet:
    id: str
    provider: str
    database_url: str
    redis_url: str
    _stopper: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    # Only sets whose servers this process started (embedded) can be controlled; None otherwise.
    control: ServerControl | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def stop(self) -> None:
        """Stop the servers of this set (if the provider owns any); safe to call more than once."""
        with self._lock:
            stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """A loopback port free right now; callers retry if a racing process takes it first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
