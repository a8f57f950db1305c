"""Queue throughput: marks ingested per second by one `retrace worker` process, beside its anchors on
the same Redis and PostgreSQL with the same threads and prefetch: a raw Dramatiq actor doing one UPDATE
(the ratio's anchor) and a no-op actor (the broker's ceiling)."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.perf.conftest import WORKER_PREFETCH, WORKER_THREADS, Figures, seed_marks
from tools.lattice.engines.perf import budgets
from tools.lattice.engines.perf.cpu import cpu_time, fixed, postgres_pids
from tools.lattice.engines.perf.noop_worker import measure_actor_throughput
from tools.lattice.live.stack import LiveStack
from tools.lattice.seam.accounts import SignedInUser

MESSAGES = 2000


def _finished(engine: Engine, ids: list[uuid.UUID]) -> tuple[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM ingestions WHERE mark_id = ANY(:ids) GROUP BY status"),
            {"ids": ids},
        ).all()
    counts = {str(status): int(n) for status, n in rows}
    return counts.get("success", 0), counts.get("failed", 0)


def _wait_all_success(engine: Engine, ids: list[uuid.UUID], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        success, failed = _finished(engine, ids)
        assert failed == 0, f"{failed} ingestions failed (see logs/perf/worker.log)"
        if success == len(ids):
            return
        assert time.monotonic() < deadline, f"only {success}/{len(ids)} ingested after {timeout_s}s"
        time.sleep(0.01)


def _wait_drained(runtime: Runtime, timeout_s: float) -> None:
    """Until the queue's message hash is empty: every message acked, as the anchors are timed.

    Polling the ingestions table instead (a GROUP BY over 2,000 ids every 10 ms) took a share of
    PostgreSQL's CPU from the worker it was timing.
    """
    broker = runtime.ingestion.broker
    key = f"{runtime.settings.redis_namespace}:{runtime.ingestion.queue_name}.msgs"
    deadline = time.monotonic() + timeout_s
    while broker.client.hlen(key):
        assert time.monotonic() < deadline, (
            f"{broker.client.hlen(key)} messages still queued after {timeout_s}s"
        )
        time.sleep(0.005)


@pytest.fixture
def runtime(perf_settings: Settings) -> Iterator[Runtime]:
    """The service's parts on the perf settings: enqueue through the app's own queue."""
    built = build_runtime(perf_settings)
    try:
        yield built
    finally:
        built.close()


def _stop_worker(stack: LiveStack) -> None:
    process = stack.processes.pop("worker", None)
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_ingestion_throughput(
    stack: LiveStack, perf_user: SignedInUser, runtime: Runtime, figures: Figures, scale: float
) -> None:
    """N marks seeded, then one message each; timed from the first send until all are `success`."""
    messages = max(100, round(MESSAGES * scale))
    queue = runtime.ingestion
    queue.broker.flush(queue.queue_name)  # what earlier benchmarks enqueued is not part of this measure
    warmup = seed_marks(runtime.engine, perf_user.id, 1, label="warmup")
    ids = seed_marks(runtime.engine, perf_user.id, messages, label="ingest")
    worker = stack.start_worker()
    postgres = postgres_pids(runtime.engine)
    try:
        queue.enqueue(warmup[0], 1)  # the worker's start (0.3-0.5 s) is not throughput
        _wait_all_success(runtime.engine, warmup, timeout_s=30)
        # The capacity model's per-job CPU: the worker's and PostgreSQL's over the batch (this process's
        # enqueueing and polling are not the worker's, and PostgreSQL serves little of them).
        with cpu_time({"worker": fixed(worker.pid), "postgres": postgres}) as cpu:
            started = time.perf_counter()
            for mark_id in ids:
                queue.enqueue(mark_id, 1)
            enqueued_s = time.perf_counter() - started
            _wait_drained(runtime, timeout_s=120)
            elapsed = time.perf_counter() - started
        _wait_all_success(runtime.engine, ids, timeout_s=5)  # drained means done; this proves it
    finally:
        _stop_worker(stack)
    rate = messages / elapsed
    figures["throughput"].update(
        ingestion_jobs_s=round(rate, 1),
        enqueue_per_s=round(messages / enqueued_s, 1),
        threads=WORKER_THREADS,
        prefetch=WORKER_PREFETCH,
        messages=messages,
        worker_cpu_ms_per_job=cpu.ms_per("worker", messages),
        postgres_cpu_ms_per_job=cpu.ms_per("postgres", messages),
    )
    verdict = budgets.ingest_verdict(rate)
    print(f"ingestion: {rate:.0f} jobs/s ({verdict}), enqueue {messages / enqueued_s:.0f}/s")
    assert rate > 0


def test_raw_update_actor_throughput(
    perf_settings: Settings, perf_user: SignedInUser, runtime: Runtime, figures: Figures, scale: float
) -> None:
    """The anchor: a bare actor doing one autocommit UPDATE of an ingestion row per message."""
    messages = max(100, round(MESSAGES * scale))
    ids = [str(i) for i in seed_marks(runtime.engine, perf_user.id, messages + 1, label="raw")]
    assert perf_settings.redis_url is not None
    rate = measure_actor_throughput(
        perf_settings.redis_url,
        f"{perf_settings.redis_namespace}:raw",
        perf_settings.queue_name("perf_raw_update"),
        threads=WORKER_THREADS,
        prefetch=WORKER_PREFETCH,
        payloads=ids[1:],
        warmup=ids[0],
        database=(perf_settings.sqlalchemy_url, perf_settings.db_schema),
    )
    with runtime.engine.connect() as conn:
        updated = conn.scalar(
            text("SELECT count(*) FROM ingestions WHERE mark_id = ANY(:ids) AND attempts = 1"),
            {"ids": [uuid.UUID(i) for i in ids]},
        )
    assert updated == len(ids), f"the raw actor updated {updated} of {len(ids)} rows"
    figures["throughput"]["raw_update_jobs_s"] = round(rate, 1)
    print(f"raw UPDATE actor: {rate:.0f} jobs/s")


def test_dramatiq_noop_throughput(perf_settings: Settings, figures: Figures, scale: float) -> None:
    messages = max(100, round(MESSAGES * scale))
    assert perf_settings.redis_url is not None
    rate = measure_actor_throughput(
        perf_settings.redis_url,
        f"{perf_settings.redis_namespace}:noop",
        perf_settings.queue_name("perf_noop"),
        threads=WORKER_THREADS,
        prefetch=WORKER_PREFETCH,
        payloads=[str(i) for i in range(messages)],
        warmup="-1",
    )
    figures["throughput"]["dramatiq_noop_jobs_s"] = round(rate, 1)
    print(f"dramatiq no-op: {rate:.0f} jobs/s")
    assert rate > 0
