"""Every setting of the service, read from `RETRACE_*` environment variables in this one place."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETRACE_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL, e.g. postgresql://user@127.0.0.1:5432/retrace"
    )
    redis_url: str | None = Field(default=None, description="Redis URL, e.g. redis://127.0.0.1:6379/0")
    mailer: str = Field(default="maildir:.retrace/mail", description="smtp://host:port or maildir:/some/dir")
    blob_dir: Path = Field(default=Path(".retrace/blobs"), description="where attachment bytes live")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # The request line and headers together; longer heads get 431 before they are buffered whole. The
    # same bound holds for a chunked body's trailer section.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    # The request line alone (414 past it), one header line (name, colon, value: 431), and the number of
    # header lines (431): each refused as soon as the bytes received pass it.
    max_request_line_bytes: int = Field(default=8 * 1024, ge=256)
    max_header_field_bytes: int = Field(default=16 * 1024, ge=256)
    max_header_count: int = Field(default=100, ge=1)
    # A body FastAPI parses (every JSON route); 413 from Content-Length before reading, or once a chunked
    # body passes it. Attachments have their own bound, max_upload_bytes.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A request head must arrive whole within this many seconds of its first byte (of the connection
    # opening, for the first request); a request body may go this long without a byte while the server
    # is reading it. Past either the server answers 408 (when it still can) and closes the connection.
    head_timeout_s: float = Field(default=10.0, gt=0)
    body_idle_timeout_s: float = Field(default=30.0, gt=0)
    # An answer the client stops reading: once the unsent bytes fill the socket's buffer, the client must
    # take enough of them to drain it within this many seconds, or the connection is aborted (no answer
    # can be sent on it any more) and the request's task ends.
    send_timeout_s: float = Field(default=30.0, gt=0)
    session_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    # Appended to every queue name as written: "__w3" gives "mark_ingestion__w3".
    queue_suffix: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]*$")
    # Prefix of every Redis key the service writes, so runs can share one Redis without touching each other.
    redis_namespace: str = Field(default="retrace", pattern=r"^[A-Za-z0-9_.:-]+$")
    db_schema: str = Field(default="public")
    # Ingestion retries: attempts in all (first try included) and the backoff between them.
    ingest_max_attempts: int = Field(default=3, ge=1)
    ingest_min_backoff_ms: int = Field(default=1000, ge=0)
    ingest_max_backoff_ms: int = Field(default=30_000, ge=0)
    worker_threads: int = Field(default=4, ge=1)
    # Messages a worker holds ahead of its threads; Dramatiq's default (2 x threads) starves fast actors.
    worker_prefetch: int = Field(default=64, ge=1)
    # `synchronous_commit` for the worker's own connections. Off (the default), a job's commit returns
    # before its WAL reaches disk: a PostgreSQL crash (not a worker crash) may lose the last fraction of a
    # second of finished jobs, which stay `processing`/`pending` and are sent again by the requeue loop.
    # The API's connections always commit synchronously: a 201 is durable.
    worker_synchronous_commit: bool = Field(default=False)
    # Bounds how long a request may wait on a sick dependency before it gets a problem answer (the
    # table "Timeouts" in docs/api.md adds them up). The statement timeout is the server's: it bounds a
    # slow query, not a silent network, where the server never sees the query or its answer never comes.
    db_statement_timeout_ms: int = Field(default=5000, ge=0)
    db_connect_timeout_s: int = Field(default=3, ge=1)
    # For the silent network: a connection whose sent bytes stay unacknowledged this long is closed by
    # the kernel (libpq's `tcp_user_timeout`), so a query sent into a partition fails in 5 s instead of
    # waiting out TCP's retransmissions (about 15 minutes). 0 leaves it to the kernel.
    db_tcp_user_timeout_ms: int = Field(default=5000, ge=0)
    # TCP keepalives on every PostgreSQL and Redis connection: an idle pooled connection to a peer that
    # vanished is found dead after idle + interval x count seconds (25 s), not after the kernel's 2 hours.
    tcp_keepalive_idle_s: int = Field(default=10, ge=1)
    tcp_keepalive_interval_s: int = Field(default=5, ge=1)
    tcp_keepalive_count: int = Field(default=3, ge=1)
    # Requests that use the database at once; each holds one pooled connection for its whole life. The
    # pool has as many again in overflow for the in-process worker, the outbox and the health check.
    db_pool_size: int = Field(default=10, ge=1)
    # How long a request may queue for one of those slots when the service is busy: a burst is answered
    # slower, not with 503 (a dead database fails at connect, within db_connect_timeout_s, not here).
    db_pool_timeout_s: float = Field(default=30.0, gt=0)
    # Every Redis connection (the API's enqueue and health check, the worker's broker): connecting, and
    # waiting for any one reply, each at most this long; a command is tried once (no client retries).
    redis_timeout_s: float = Field(default=3.0, gt=0)
    # A pooled Redis connection idle this long is PINGed before it is used (within redis_timeout_s), so
    # a connection left half-open by a partition fails there, not in the middle of a command. 0 = never.
    redis_health_check_interval_s: int = Field(default=15, ge=0)
    # Dramatiq's Redis broker: a worker process silent this long counts as dead, and a maintenance pass
    # (run on `broker_maintenance_chance` broker commands out of a million) requeues its unacked messages.
    # The worker's requeue loop: how often it looks for ingestions whose message never reached the broker
    # (or was lost there), and how old a sent-but-unfinished message must be before it is sent again.
    # A version left unsent (the broker down, or the API killed between its commit and the send) is sent
    # within two intervals.
    requeue_interval_s: float = Field(default=2.0, gt=0)
    requeue_after_s: float = Field(default=600.0, gt=0)
    broker_heartbeat_timeout_ms: int = Field(default=60_000, ge=1)
    broker_maintenance_chance: int = Field(default=1000, ge=0, le=1_000_000)
    # Diagnostics, off by default: each request's time per part, one JSON line per request (app/spans.py).
    spans_path: Path | None = Field(default=None)

    @field_validator("db_schema")
    @classmethod
    def _plain_schema_name(cls, value: str) -> str:
        # The name is interpolated into `SET search_path`, so only a plain identifier is allowed.
        if not _SCHEMA_NAME.match(value):
            raise ValueError("must be a lower-case SQL identifier (letters, digits, underscore)")
        return value

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver, whatever scheme the user wrote."""
        if self.database_url is None:
            raise ValueError("RETRACE_DATABASE_URL is not set")
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        raise ValueError(f"RETRACE_DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")

    def queue_name(self, base: str) -> str:
        return base + self.queue_suffix


class SettingsError(ValueError):
    """A `RETRACE_*` variable holds a value the service cannot use; the message is one line."""


def load_settings() -> Settings:
    """Settings from the environment, a bad value reported as one actionable line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"retrace: RETRACE_{str(first['loc'][0]).upper()}: {first['msg']}") from None
