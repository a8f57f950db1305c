"""Everything a request or a worker needs, built once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from app.blobs import BlobStore
from app.db import make_engine
from app.ingestion.queue import IngestionQueue, make_ingestion_queue
from app.mail import Mailer, make_mailer
from app.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    mailer: Mailer
    ingestion: IngestionQueue

    def close(self) -> None:
        self.engine.dispose()
        self.ingestion.broker.close()


def build_runtime(settings: Settings, *, broker: RedisBroker | None = None) -> Runtime:
    """Wire the parts; connects to nothing until first use."""
    if settings.database_url is None or settings.redis_url is None:
        missing = [
            n
            for n, v in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url))
            if not v
        ]
        raise ValueError(
            "set " + " and ".join(f"RETRACE_{name}" for name in missing) + " (or run `nox -s serve`)"
        )
    engine = make_engine(settings)
    blobs = BlobStore(settings.blob_dir)
    return Runtime(
        settings=settings,
        engine=engine,
        blobs=blobs,
        mailer=make_mailer(settings.mailer),
        ingestion=make_ingestion_queue(settings, engine, blobs, broker),
    )
