"""Slow peers over raw sockets: a request whose head, body or response read stops (or trickles) part way,
left open for the server to deal with; and whether the server has closed it since.

Three ways a client can hold a connection at its own pace, each built from any operation's valid request
(`tools.lattice.engines.race.requests_for.Built`):

- `stall_head`: the request line and half of the headers, then nothing (or, trickled, one more byte of
  a header every tick: an idle timer is reset by each byte, only a bound on the whole head ends it);
- `stall_body`: the whole head, declaring a body longer than what follows (JSON padded with spaces,
  which stay valid JSON), then nothing (or a byte a tick);
- `stall_read`: the whole request on a socket whose receive buffer is a few KB, never read: the server
  blocks on sending anything longer than the buffers.

Whether the server closed a socket is read from the kernel (TCP_INFO), without reading from it: a read
would drain the response and unblock the very server the stall is holding.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.requests_for import Built

TCP_ESTABLISHED = 1
# A client's receive buffer, set before connecting so the advertised window stays this small.
SMALL_RCVBUF = 4096


def send_buffer_max() -> int:
    """The most a socket's send buffer grows to (Linux autotuning): a response longer than this and a
    stalled reader's window really blocks the sender."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 << 20  # Linux's default


# Bytes declared past a stalled body: never sent whole, so the request cannot complete.
BODY_PADDING = 1 << 20


@dataclass
class Stall:
    kind: str
    operation_id: str
    sock: socket.socket
    opened: float = field(default_factory=time.monotonic)
    closed_after_s: float | None = None  # when the server was first seen to have closed it

    def server_closed(self) -> bool:
        """True once the server has sent FIN or RST on this connection (or the socket is gone)."""
        if self.closed_after_s is not None:
            return True
        try:
            info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            state = 0
        else:
            state = info[0]
        if state != TCP_ESTABLISHED:
            self.closed_after_s = time.monotonic() - self.opened
            return True
        return False

    def drop(self) -> None:
        rawhttp.reset(self.sock)


def stall_head(base_url: str, built: Built) -> socket.socket:
    """The request line and the first half of the head's header lines; no blank line ever follows."""
    lines = built.head().split(b"\r\n")
    header_lines = [line for line in lines[1:] if line]
    sent = [lines[0], *header_lines[: max(1, len(header_lines) // 2)], b"X-Trickle: "]
    sock = rawhttp.connect(base_url)
    sock.sendall(b"\r\n".join(sent))
    return sock


def stall_body(base_url: str, built: Built) -> socket.socket:
    """The whole head, declaring the valid body plus BODY_PADDING bytes; the valid body is sent."""
    assert built.body is not None, f"{built.operation.operation_id} takes no body"
    sock = rawhttp.connect(base_url)
    sock.sendall(built.head(content_length=len(built.body) + BODY_PADDING) + built.body)
    return sock


def stall_read(base_url: str, built: Built) -> socket.socket:
    """The whole request on a socket with a tiny receive window, never read."""
    sock = rawhttp.connect(base_url, rcvbuf=SMALL_RCVBUF)
    sock.sendall(built.raw())
    return sock


# The byte a trickle adds: to a header value (a head), or as JSON whitespace / more bytes (a body).
TRICKLE_BYTE = {"head": b"a", "body": b" "}


class Trickler:
    """Sends one byte to each of its sockets every `tick_s` until the server closes it or `stop`."""

    def __init__(self, tick_s: float) -> None:
        self.tick_s = tick_s
        self._sockets: list[tuple[socket.socket, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickler", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, byte: bytes) -> None:
        with self._lock:
            self._sockets.append((sock, byte))

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                alive = []
                for sock, byte in self._sockets:
                    try:
                        sock.setblocking(False)
                        sock.send(byte)
                    except BlockingIOError:
                        alive.append((sock, byte))
                    except OSError:
                        continue  # closed by the server (or by us): done trickling
                    else:
                        alive.append((sock, byte))
                self._sockets = alive

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=5)
