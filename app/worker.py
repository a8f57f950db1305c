"""A Dramatiq worker on the ingestion queue, run in this process until told to stop."""

from __future__ import annotations

import logging
import signal
import threading

from app.ingestion.queue import make_worker
from app.runtime import Runtime

log = logging.getLogger("retrace.worker")


def run_worker(runtime: Runtime, stop: threading.Event | None = None) -> None:
    """Consume until SIGINT/SIGTERM (or `stop` is set), then finish in-flight messages and return."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = make_worker(
        runtime.ingestion, threads=runtime.settings.worker_threads, prefetch=runtime.settings.worker_prefetch
    )
    worker.start()
    log.info(
        "worker consuming %s with %d threads", runtime.ingestion.queue_name, runtime.settings.worker_threads
    )
    try:
        stop.wait()
    finally:
        worker.stop()
