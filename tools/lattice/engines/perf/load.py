"""A closed-loop load generator: N client threads, each with its own keep-alive httpx.Client.

Every client runs its share of calls back to back after a common start (a barrier), so the server sees
N requests in flight; each call is timed alone. A call can time only part of its work with `lap.timed()`
(e.g. sign-in times its two requests, not the Maildir read between them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from tools.lattice.engines.perf.stats import LatencySummary


class Lap:
    """The time one call spent inside `timed()` blocks (or, if it used none, the whole call)."""

    def __init__(self) -> None:
        self.elapsed_s = 0.0
        self.used = False

    @contextmanager
    def timed(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.elapsed_s += time.perf_counter() - started
            self.used = True


# call(client, client_index, call_index, lap): raise (e.g. AssertionError) when the answer is wrong.
Call = Callable[[httpx.Client, int, int, Lap], None]


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def summary(self) -> LatencySummary:
        return LatencySummary.of(self.latencies_s, self.wall_s)


def run_load(
    base_url: str,
    call: Call,
    *,
    clients: int,
    calls_per_client: int,
    warmup_per_client: int = 2,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Run `call` `calls_per_client` times on each of `clients` threads; warm-up calls are not counted.

    Warm-up calls get negative call indexes (-1, -2, ...), so a call can tell them apart.
    """
    result = LoadResult()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client_loop(index: int) -> None:
        latencies: list[float] = []
        with httpx.Client(base_url=base_url, timeout=30.0, headers=headers) as client:
            try:
                for n in range(1, warmup_per_client + 1):
                    call(client, index, -n, Lap())
            except Exception as exc:
                with lock:
                    result.errors.append(f"client {index} warm-up: {exc!r}")
            barrier.wait()
            for i in range(calls_per_client):
                lap = Lap()
                started = time.perf_counter()
                try:
                    call(client, index, i, lap)
                except Exception as exc:
                    with lock:
                        result.errors.append(f"client {index} call {i}: {exc!r}")
                    continue
                latencies.append(lap.elapsed_s if lap.used else time.perf_counter() - started)
        with lock:
            result.latencies_s.extend(latencies)

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - started
    return result
