"""The broker and the `mark_ingestion` actor, built per settings rather than at import.

Dramatiq binds an actor to a broker when the actor is declared; declaring it here, inside a factory,
lets every app (and every test worker) own a broker, a Redis namespace and a queue suffix of its own.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from app.blobs import BlobStore
from app.ingestion.process import ingest
from app.settings import Settings

QUEUE = "mark_ingestion"
ACTOR = "ingest_mark"


def redis_pool(settings: Settings) -> redis.ConnectionPool:
    """The pool every Redis connection of the service comes from, with the timeouts of its settings.

    Built here, not by Dramatiq: given a URL, RedisBroker builds its pool from the URL alone and drops
    the socket options passed beside it, so the connections waited on redis-py's defaults.
    """
    if settings.redis_url is None:
        raise ValueError("RETRACE_REDIS_URL is not set")
    return redis.ConnectionPool.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        socket_keepalive=True,
        socket_keepalive_options={
            socket.TCP_KEEPIDLE: settings.tcp_keepalive_idle_s,
            socket.TCP_KEEPINTVL: settings.tcp_keepalive_interval_s,
            socket.TCP_KEEPCNT: settings.tcp_keepalive_count,
        },
        health_check_interval=settings.redis_health_check_interval_s,
        retry=Retry(NoBackoff(), 0),  # tried once: the caller's bound is one redis_timeout_s
    )


def make_broker(settings: Settings) -> RedisBroker:
    return RedisBroker(  # type: ignore[no-untyped-call]
        connection_pool=redis_pool(settings),
        namespace=settings.redis_namespace,
        heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
        maintenance_chance=settings.broker_maintenance_chance,
    )


@dataclass
class IngestionQueue:
    broker: RedisBroker
    actor: Any  # dramatiq.Actor[[str, int], None]; dramatiq's generics do not survive mypy here
    queue_name: str

    def enqueue(self, mark_id: uuid.UUID, version: int) -> None:
        self.actor.send(str(mark_id), version)


def make_ingestion_queue(
    settings: Settings, engine: Engine, blobs: BlobStore, broker: RedisBroker | None = None
) -> IngestionQueue:
    broker = broker or make_broker(settings)
    queue_name = settings.queue_name(QUEUE)
    max_attempts = settings.ingest_max_attempts

    def ingest_mark(mark_id: str, version: int) -> None:
        ingest(engine, blobs, uuid.UUID(mark_id), version, max_attempts)

    actor = dramatiq.actor(
        actor_name=ACTOR,
        queue_name=queue_name,
        broker=broker,
        # The actor counts attempts itself and marks `failed` on the last; the broker only spaces retries.
        max_retries=max_attempts,
        min_backoff=settings.ingest_min_backoff_ms,
        max_backoff=max(settings.ingest_max_backoff_ms, settings.ingest_min_backoff_ms),
        time_limit=60_000,
    )(ingest_mark)
    return IngestionQueue(broker=broker, actor=actor, queue_name=queue_name)


def make_worker(queue: IngestionQueue, *, threads: int, prefetch: int = 0) -> dramatiq.Worker:
    """A Dramatiq worker consuming only this queue (start() it; stop() it)."""
    worker = dramatiq.Worker(
        queue.broker, queues={queue.queue_name}, worker_threads=threads, worker_timeout=100
    )
    if prefetch:
        # Dramatiq reads its prefetch from the environment at import; the attribute is the per-worker knob.
        worker.queue_prefetch = prefetch
    return worker
