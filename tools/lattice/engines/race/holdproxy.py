"""A TCP proxy that can keep back what its clients send: point a process's dependency URL at it (e.g. the
API's RETRACE_REDIS_URL) and the process's writes to that dependency can be held in flight on purpose.

Bytes pass both ways until `hold()`; from then on what clients send is dropped before the upstream sees
it, so a client waits for an answer that never comes (until its own timeout). `drop()` closes every
connection and passes bytes again, as if the held writes had been lost with a process that died."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class HoldProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._parts = parts
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._holding = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.held_bytes = 0
        self._closed = False
        threading.Thread(target=self._accept, name="holdproxy-accept", daemon=True).start()

    @property
    def url(self) -> str:
        """The upstream URL with this proxy's address in its place."""
        netloc = f"127.0.0.1:{self.port}"
        if "@" in self._parts.netloc:
            netloc = self._parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        return urlunsplit(self._parts._replace(netloc=netloc))

    def hold(self) -> None:
        self._holding.set()

    def drop(self) -> None:
        """Close every proxied connection (what was held is gone), then pass bytes again."""
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._holding.clear()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.drop()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=5.0)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_client and self._holding.is_set():
                    self.held_bytes += len(data)
                    continue
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
