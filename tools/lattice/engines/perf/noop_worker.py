"""The queue anchors: raw Dramatiq throughput on the same Redis, in a process of their own.

Two actors, each with the threads and prefetch of `retrace worker`: a no-op (the broker's ceiling) and
a raw UPDATE actor doing one autocommit `UPDATE ingestions ... WHERE mark_id = ...` (the floor of any
job that writes its result to PostgreSQL). Ingestion is reported as a ratio to the UPDATE actor.

`python -m tools.lattice.engines.perf.noop_worker REDIS_URL NAMESPACE QUEUE THREADS PREFETCH
[DATABASE_URL SCHEMA]`
consumes until SIGINT or SIGTERM (with a database: the UPDATE actor); `measure_actor_throughput` starts
it, sends the messages and times the drain (the queue's message hash is empty once every message was
acked).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import create_engine, text

from tools.lattice.services.process import die_with_parent, stop_child

ACTOR = "noop"
UPDATE = text("UPDATE ingestions SET attempts = attempts + 1 WHERE mark_id = CAST(:mark_id AS uuid)")


def _declare(
    url: str, namespace: str, queue: str, database: tuple[str, str] | None
) -> tuple[RedisBroker, Any]:
    broker = RedisBroker(url=url, namespace=namespace)  # type: ignore[no-untyped-call]
    if database is None:

        def work(arg: str) -> None:
            return None

    else:
        db_url, schema = database
        engine = create_engine(
            db_url,  # a postgresql+psycopg:// URL (Settings.sqlalchemy_url)
            isolation_level="AUTOCOMMIT",
            pool_size=16,
            connect_args={"options": f"-c search_path={schema}"},
        )

        def work(arg: str) -> None:
            with engine.connect() as conn:
                conn.execute(UPDATE, {"mark_id": arg})

    actor = dramatiq.actor(actor_name=ACTOR, queue_name=queue, broker=broker, max_retries=0)(work)
    return broker, actor


def main(argv: list[str]) -> int:
    if len(argv) not in (5, 7):
        print(
            "usage: python -m tools.lattice.engines.perf.noop_worker"
            " REDIS_URL NAMESPACE QUEUE THREADS PREFETCH [DATABASE_URL SCHEMA]",
            file=sys.stderr,
        )
        return 2
    url, namespace, queue, threads, prefetch = argv[:5]
    database = (argv[5], argv[6]) if len(argv) == 7 else None
    broker, _ = _declare(url, namespace, queue, database)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=int(threads), worker_timeout=100)
    worker.queue_prefetch = int(prefetch)  # as app.ingestion.queue.make_worker sets it
    worker.start()
    print("anchor worker ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()
    return 0


def _wait_drained(client: redis.Redis, key: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while client.hlen(key):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{client.hlen(key)} anchor messages still queued after {timeout_s}s")
        time.sleep(0.005)


def measure_actor_throughput(
    url: str,
    namespace: str,
    queue: str,
    *,
    threads: int,
    prefetch: int,
    payloads: Sequence[str],
    warmup: str,
    database: tuple[str, str] | None = None,
    timeout_s: float = 60,
) -> float:
    """Messages per second through the anchor actor: from the first send until the queue is drained."""
    broker, actor = _declare(url, namespace, queue, None)  # the sender needs no database
    client = redis.Redis.from_url(url)
    key = f"{namespace}:{queue}.msgs"
    extra = list(database) if database else []
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, url, namespace, queue, str(threads), str(prefetch), *extra],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready": the worker is consuming
        actor.send(warmup)  # the first message pays for the worker's first fetch (and first connection)
        _wait_drained(client, key, timeout_s)
        started = time.perf_counter()
        for payload in payloads:
            actor.send(payload)
        _wait_drained(client, key, timeout_s)
        return len(payloads) / (time.perf_counter() - started)
    finally:
        stop_child(process)
        broker.flush_all()
        broker.close()
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
