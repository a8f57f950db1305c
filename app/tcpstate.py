"""What the kernel knows of a TCP connection's sending side: how much the peer has acknowledged, how much
is still queued, and how to drop the connection at once (Linux: TCP_INFO, SIOCOUTQ, SO_LINGER).

The server's send timeout needs them: a peer that stops reading is told apart from a slow one by whether
it acknowledges anything, and a connection given up on must not linger in the kernel waiting to deliver
bytes nobody will read.
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import struct
import termios

# struct tcp_info (linux/tcp.h): tcpi_bytes_acked, a __u64, follows 8 one-byte fields, 24 __u32 fields
# and two __u64 pacing rates (Linux >= 4.1).
_BYTES_ACKED_AT = 8 + 24 * 4 + 2 * 8
_TCP_INFO_LEN = _BYTES_ACKED_AT + 8


def bytes_acked(sock: socket.socket) -> int | None:
    """The bytes the peer has acknowledged on this connection, or None where the kernel does not say."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except OSError:
        return None
    if len(info) < _TCP_INFO_LEN:
        return None
    acked: int = struct.unpack_from("Q", info, _BYTES_ACKED_AT)[0]
    return acked


def queued(sock: socket.socket) -> int:
    """Bytes written to the socket that the peer has not acknowledged yet (0 where unknown)."""
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    count: int = struct.unpack("i", raw)[0]
    return count


def drop_on_close(sock: socket.socket) -> None:
    """Make the next close send RST and free the connection now, instead of holding queued bytes."""
    with contextlib.suppress(OSError):  # already gone
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
