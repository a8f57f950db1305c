"""The reference: raw Dramatiq throughput of a no-op actor on the same Redis, in its own process.

`python -m tools.lattice.perf.noop_worker URL NAMESPACE QUEUE THREADS PREFETCH` consumes until SIGINT or
SIGTERM; `measure_noop_throughput` starts it, sends N messages and times the drain (the queue's message
hash is empty once every message was acked).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from tools.lattice.services.process import die_with_parent, stop_child

ACTOR = "noop"


def _declare(url: str, namespace: str, queue: str) -> tuple[RedisBroker, Any]:
    broker = RedisBroker(url=url, namespace=namespace)  # type: ignore[no-untyped-call]

    def noop(i: int) -> None:
        return None

    actor = dramatiq.actor(actor_name=ACTOR, queue_name=queue, broker=broker, max_retries=0)(noop)
    return broker, actor


def main(argv: list[str]) -> int:
    url, namespace, queue, threads, prefetch = argv
    broker, _ = _declare(url, namespace, queue)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=int(threads), worker_timeout=100)
    worker.queue_prefetch = int(prefetch)  # as app.ingestion.queue.make_worker sets it
    worker.start()
    print("noop worker ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()
    return 0


def _wait_drained(client: redis.Redis, key: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while client.hlen(key):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{client.hlen(key)} no-op messages still queued after {timeout_s}s")
        time.sleep(0.005)


def measure_noop_throughput(
    url: str, namespace: str, queue: str, *, threads: int, prefetch: int, messages: int, timeout_s: float = 60
) -> float:
    """Messages per second through a no-op actor: from the first send until the queue is drained."""
    broker, actor = _declare(url, namespace, queue)
    client = redis.Redis.from_url(url)
    key = f"{namespace}:{queue}.msgs"
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, url, namespace, queue, str(threads), str(prefetch)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready": the worker is consuming
        actor.send(-1)  # warm-up: the first message pays for the worker's first fetch
        _wait_drained(client, key, timeout_s)
        started = time.perf_counter()
        for i in range(messages):
            actor.send(i)
        _wait_drained(client, key, timeout_s)
        return messages / (time.perf_counter() - started)
    finally:
        stop_child(process)
        broker.flush_all()
        broker.close()
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
