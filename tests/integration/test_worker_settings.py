"""What the worker process is built with: the actor's time limit and retry backoff, the consumer's
threads and prefetch from the settings, and a background that stops cleanly."""

from __future__ import annotations

from app.runtime import build_runtime
from app.worker import start_background
from tools.lattice import WorkerLattice


def test_the_worker_process_parts_follow_the_settings(lattice: WorkerLattice) -> None:
    # A queue of its own, so it does not consume this xdist worker's messages.
    settings = lattice.plane.settings(
        queue_suffix=f"{lattice.plane.names.queue_suffix}_bg", worker_threads=3, worker_prefetch=5
    )
    runtime = build_runtime(settings)
    # The actor is cut after a minute and backs off as set.
    options = runtime.ingestion.actor.options
    assert options["time_limit"] == 60_000
    assert (options["min_backoff"], options["max_backoff"]) == (
        settings.ingest_min_backoff_ms,
        settings.ingest_max_backoff_ms,
    )
    background = start_background(runtime)
    try:
        assert background.worker.worker_threads == 3
        assert background.worker.queue_prefetch == 5
        assert background.worker.consumer_whitelist == {runtime.ingestion.queue_name}
    finally:
        background.stop()
        runtime.close()
    assert not background.requeue._thread.is_alive(), "the requeue loop outlived stop()"
