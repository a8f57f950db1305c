"""A real Dramatiq worker for one xdist worker's queue, with StubBroker-style `join(fail_fast=...)`."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from tools.lattice.seam.target import AppUnderTest

# On pause() Dramatiq's consumer thread leaves its fetch loop and sleeps its "restart" delay (3 s by default)
# before it notices the pause, so every per-test pause cost 3 s. The loop reads this global each time round.
dramatiq.worker.CONSUMER_RESTART_DELAY_SECS = 0.02


class ActorErrors(Middleware):
    """Keeps what actors raised, so a test can see its worker's failures instead of a log line."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is not None:
            with self._lock:
                self.errors.append(exception)

    def take(self) -> list[BaseException]:
        with self._lock:
            taken, self.errors = self.errors, []
        return taken


class QueueNotDrained(AssertionError):
    pass


class DrainableWorker:
    """Started once per xdist worker, paused between tests, resumed for tests that ask for it."""

    def __init__(self, app: AppUnderTest, errors: ActorErrors, threads: int = 2) -> None:
        self.app = app
        self.errors = errors
        self._threads = threads
        self._worker: dramatiq.Worker | None = None
        self._paused = False

    @property
    def broker(self) -> RedisBroker:
        return self.app.broker  # type: ignore[no-any-return]

    @property
    def queue(self) -> Any:
        """The app's own queue object (to enqueue directly)."""
        return self.app.queue

    @property
    def queue_name(self) -> str:
        return self.app.queue_name

    def resume(self) -> None:
        if self._worker is None:
            self._worker = self.app.make_worker(self._threads, 64)
            self._worker.start()
        else:
            self._worker.resume()
        self._paused = False

    def pause(self) -> None:
        # Dramatiq's pause() waits for every thread's next poll (~0.1 s) even when already paused, and the
        # per-test reset pauses every time: only a running worker is paused.
        if self._worker is not None and not self._paused:
            self._worker.pause()
        self._paused = True

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=5000)
            self._worker = None
        self._paused = False

    def pending(self) -> int:
        """Messages queued, delayed or in flight on this worker's queue."""
        return int(self.broker.do_qsize(self.queue_name))

    def join(self, *, timeout_s: float = 15.0, fail_fast: bool = True) -> list[BaseException]:
        """Wait until the queue is drained (retries included); re-raise the first actor error if fail_fast.

        Returns the errors actors raised meanwhile (when not failing fast).
        """
        deadline = time.monotonic() + timeout_s
        while self.pending():
            if time.monotonic() > deadline:
                raise QueueNotDrained(
                    f"{self.pending()} message(s) still on {self.queue_name} after {timeout_s}s"
                )
            time.sleep(0.005)
        errors = self.errors.take()
        if fail_fast and errors:
            raise errors[0]
        return errors

    def flush(self) -> None:
        self.broker.flush(self.queue_name)
        self.errors.take()
