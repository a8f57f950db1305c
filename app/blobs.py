"""Attachment bytes on disk, one file per blob id; written atomically, streamed in and out."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The body grew past the upload limit while it was being read."""


@dataclass(frozen=True)
class StoredBlob:
    blob_id: uuid.UUID
    size: int
    sha256: str


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, blob_id: uuid.UUID) -> Path:
        # Only the UUID names the file, so no user input can reach the filesystem's namespace.
        hex_id = blob_id.hex
        return self.root / hex_id[:2] / hex_id

    async def write(self, chunks: AsyncIterator[bytes], limit: int) -> StoredBlob:
        """Stream chunks to a new blob, never holding more than one chunk in memory."""
        blob_id = uuid.uuid4()
        final = self.path(blob_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_suffix(".part")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredBlob(blob_id, size, digest.hexdigest())

    def read_range(self, blob_id: uuid.UUID, start: int, length: int) -> Iterator[bytes]:
        with self.path(blob_id).open("rb") as src:
            src.seek(start)
            remaining = length
            while remaining > 0:
                chunk = src.read(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def read_all(self, blob_id: uuid.UUID) -> bytes:
        return self.path(blob_id).read_bytes()

    def delete(self, blob_id: uuid.UUID) -> None:
        self.path(blob_id).unlink(missing_ok=True)
