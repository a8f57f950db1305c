"""Is a TCP port free to listen on, and which one to suggest instead."""

from __future__ import annotations

import socket


def can_listen(host: str, port: int) -> bool:
    """True when `host:port` can be bound now (as uvicorn binds it: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def next_free(host: str, port: int, tries: int = 50) -> int | None:
    """The first port above `port` that can be bound, or None."""
    return next((p for p in range(port + 1, min(port + 1 + tries, 65536)) if can_listen(host, p)), None)
