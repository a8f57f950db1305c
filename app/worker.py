"""The background side of the service: a Dramatiq worker on the ingestion queue and the requeue loop."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

import dramatiq

from app.ingestion.outbox import RequeueLoop
from app.ingestion.queue import make_worker
from app.runtime import Runtime

log = logging.getLogger("retrace.worker")


@dataclass
class Background:
    worker: dramatiq.Worker
    requeue: RequeueLoop

    def stop(self) -> None:
        self.requeue.stop()
        self.worker.stop()


def start_background(runtime: Runtime) -> Background:
    """Start consuming and requeueing in this process (used by `retrace worker` and `retrace serve`)."""
    settings = runtime.settings
    worker = make_worker(
        runtime.ingestion, threads=settings.worker_threads, prefetch=settings.worker_prefetch
    )
    worker.start()
    requeue = RequeueLoop(
        runtime.engine,
        runtime.ingestion,
        interval_s=settings.requeue_interval_s,
        stale_after_s=settings.requeue_after_s,
        max_attempts=settings.ingest_max_attempts,
    )
    requeue.start()
    log.info("worker consuming %s with %d threads", runtime.ingestion.queue_name, settings.worker_threads)
    return Background(worker, requeue)


def run_worker(runtime: Runtime, stop: threading.Event | None = None) -> None:
    """Consume until SIGINT/SIGTERM (or `stop` is set), then finish in-flight messages and return."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    background = start_background(runtime)
    try:
        stop.wait()
    finally:
        background.stop()
