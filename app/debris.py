"""What a killed process leaves among the attachment bytes, removed when an API process starts.

`.part` files of uploads cut off by a kill, and blobs written before a kill whose row never committed,
are found by `app/blobs.py`'s sweeps (which leave alone whatever another live process is writing);
whether a row names a blob is asked of the database here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from app.blobs import BlobStore
from app.models import Attachment

log = logging.getLogger("retrace.debris")


def sweep_blob_debris(blobs: BlobStore, engine: Engine) -> tuple[int, int]:
    """Remove unheld `.part` files, then unheld blobs no row names; returns how many of each.

    A database that does not answer leaves the orphans for the next start (logged), not the start-up.
    """
    partials = blobs.sweep_partials()

    def named(ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        with engine.connect() as conn:
            return set(conn.scalars(select(Attachment.blob_id).where(col(Attachment.blob_id).in_(ids))))

    try:
        orphans = blobs.sweep_orphans(named)
    except SQLAlchemyError as exc:
        log.warning("orphan blobs not swept, the database did not answer: %s", type(exc).__name__)
        orphans = 0
    if partials or orphans:
        log.info(
            "removed %d partial upload(s) and %d orphan blob(s) left by a stopped process", partials, orphans
        )
    return partials, orphans
