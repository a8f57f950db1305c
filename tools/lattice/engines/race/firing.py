"""Fire a batch of calls at once: one thread each, released together by a barrier, each answer timed.

A call returns an `httpx.Response`; what it raises (a reset, a timeout) is kept as the shot's error, so
the caller decides what a transport failure means. Times are `time.monotonic()` seconds, comparable
between shots of one batch: `started` is taken after the barrier, `ended` when the answer is read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

Call = Callable[[], httpx.Response]


@dataclass(frozen=True)
class Shot:
    index: int
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (see error)
    body: object = None  # the JSON body when there was one
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def before(self, other: Shot) -> bool:
        """This shot was answered before `other` was sent: the two did not overlap."""
        return self.ended < other.started


class Batch:
    """A reusable pool of threads that fires up to `width` calls at the same instant."""

    def __init__(self, width: int = 8) -> None:
        self.width = width
        self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="race")

    def fire(self, calls: Sequence[Call], timeout_s: float = 60.0) -> list[Shot]:
        if not 1 <= len(calls) <= self.width:
            raise ValueError(f"a batch holds 1..{self.width} calls, got {len(calls)}")
        barrier = threading.Barrier(len(calls))

        def one(index: int, call: Call) -> Shot:
            barrier.wait(timeout=timeout_s)
            started = time.monotonic()
            try:
                response = call()
            except Exception as exc:  # a transport failure is a finding, not a crash of the harness
                return Shot(index, started, time.monotonic(), None, error=f"{type(exc).__name__}: {exc}")
            ended = time.monotonic()
            body: object = None
            if response.headers.get("content-type", "").split(";")[0].endswith("json"):
                try:
                    body = response.json()
                except ValueError:
                    body = None
            return Shot(index, started, ended, response.status_code, body)

        futures = [self._pool.submit(one, i, call) for i, call in enumerate(calls)]
        return [future.result(timeout=timeout_s) for future in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
