"""A TCP proxy on its own loopback port that delays what it forwards, per direction.

The kernel here has no `netem` qdisc, so added latency cannot come from `tc`; and Toxiproxy (the anchor)
is a Go binary in neither Debian's archive nor PyPI (PyPI has only its HTTP client, `toxiproxy-python`,
which needs the server running). This proxy is the smallest thing that does the one job: every chunk
read from one side is written to the other `delay` seconds after it arrived, in order, without slowing
the stream's throughput (chunks are stamped on arrival and a separate writer waits for each stamp).

It runs an asyncio loop in a daemon thread of the test process, so it dies with the run. Partitions
and loss are not made here: a proxy that stops forwarding still lets the kernel acknowledge every byte
the client sends, which no real partition does (see tools/lattice/live/faults/netfilter.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field

from tools.lattice.services.base import free_port

_CHUNK = 64 * 1024


@dataclass
class Delays:
    """Seconds added to each direction: `upstream` is client to server, `downstream` server to client."""

    upstream: float = 0.0
    downstream: float = 0.0


@dataclass
class DelayProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`; `delays` may change at any time."""

    target_host: str
    target_port: int
    port: int = field(default_factory=free_port)
    delays: Delays = field(default_factory=Delays)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def start(self) -> DelayProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._accept, "127.0.0.1", self.port)
                )
            except OSError as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"delay-proxy-{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def close() -> None:
            server.close()
            for writer in list(self._writers):
                writer.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            with contextlib.suppress(Exception):
                await server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._server = None

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer, upstream=True),
                self._pipe(server_reader, client_writer, upstream=False),
            )
        finally:
            for writer in (client_writer, server_writer):
                self._writers.discard(writer)
                writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        """Read chunks as they come, stamp each with its due time, write each when due (order kept)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            try:
                while chunk := await reader.read(_CHUNK):
                    delay = self.delays.upstream if upstream else self.delays.downstream
                    queue.put_nowait((time.monotonic() + delay, chunk))
            except OSError:
                pass
            queue.put_nowait((0.0, b""))  # end of stream, after what is queued

        async def write() -> None:
            try:
                while True:
                    due, chunk = await queue.get()
                    if not chunk:
                        break
                    wait = due - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    writer.write(chunk)
                    await writer.drain()
                if writer.can_write_eof():
                    writer.write_eof()
            except OSError:
                pass

        await asyncio.gather(read(), write())
