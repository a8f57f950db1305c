"""Attachment bytes on disk, one file per blob id; written atomically and durably, streamed in and out.

A file being written (`<id>.part`), and the blob it becomes until its row commits, is held under an
exclusive `flock` by the process writing it. The lock is what tells debris from work in progress: a
process killed mid-upload loses its locks with it, so at start-up (`sweep_partials`, `sweep_orphans`)
any `.part` file nobody holds, and any blob nobody holds that no row names, is debris, however young,
while every file another live process (API processes share the directory) is still writing is held
and left alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass
from io import BufferedWriter
from pathlib import Path
from typing import BinaryIO

import anyio

CHUNK = 64 * 1024
_SUBDIR = re.compile(r"^[0-9a-f]{2}$")
_BLOB_NAME = re.compile(r"^([0-9a-f]{32})(\.part)?$")


class TooLarge(Exception):
    """The body grew past the upload limit while it was being read."""


@dataclass(frozen=True)
class StoredBlob:
    blob_id: uuid.UUID
    size: int
    sha256: str


class OpenRange:
    """A byte range of an opened blob; `close` it when done (or when it is never read)."""

    def __init__(self, src: BinaryIO, length: int) -> None:
        self._src, self.length = src, length

    def chunks(self) -> Iterator[bytes]:
        remaining = self.length
        while remaining > 0:
            chunk = self._src.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._src.close()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Blobs written by this process whose rows are not committed yet: their locks, held until
        # `settle` or `delete`.
        self._held: dict[uuid.UUID, int] = {}
        self._held_guard = threading.Lock()

    def path(self, blob_id: uuid.UUID) -> Path:
        # Only the UUID names the file, so no user input can reach the filesystem's namespace.
        hex_id = blob_id.hex
        return self.root / hex_id[:2] / hex_id

    async def write(self, chunks: AsyncIterator[bytes], limit: int) -> StoredBlob:
        """Stream chunks to a new blob, never holding more than one chunk in memory.

        The blob is on disk (file and directory entry fsynced) when this returns, and stays locked by
        this process until `settle` (its row committed) or `delete`.
        """
        blob_id, partial, out = self._create_locked()
        final = self.path(blob_id)
        held = os.dup(out.fileno())  # the lock lives as long as any descriptor of the open file
        digest, size = hashlib.sha256(), 0
        try:
            with out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.fileno())
            await anyio.to_thread.run_sync(_durable_rename, partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            final.unlink(missing_ok=True)  # renamed, but not made durable: the caller never hears of it
            os.close(held)
            raise
        with self._held_guard:
            self._held[blob_id] = held
        return StoredBlob(blob_id, size, digest.hexdigest())

    def _create_locked(self) -> tuple[uuid.UUID, Path, BufferedWriter]:
        """A new, empty `.part` file under this process's lock."""
        while True:
            blob_id = uuid.uuid4()
            partial = self.path(blob_id).with_suffix(".part")
            _make_dir(partial.parent)
            out = partial.open("xb")
            fcntl.flock(out.fileno(), fcntl.LOCK_EX)
            if os.fstat(out.fileno()).st_nlink:
                return blob_id, partial, out
            # A start-up sweep took the file between its creation and our lock: start again.
            out.close()

    def settle(self, blob_id: uuid.UUID) -> None:
        """The blob's row is committed (or the blob is gone): release it to the sweeps' judgement."""
        with self._held_guard:
            held = self._held.pop(blob_id, None)
        if held is not None:
            os.close(held)

    def sweep_partials(self) -> int:
        """Remove every `.part` file no live process holds (left by a killed one); returns how many."""
        removed = 0
        for path, is_partial in self._files():
            if is_partial:
                removed += _remove_if_free(path)
        return removed

    def sweep_orphans(self, named: Callable[[Collection[uuid.UUID]], Collection[uuid.UUID]]) -> int:
        """Remove every blob no live process holds and no row names; returns how many.

        `named(ids)` answers which of `ids` a row names; it is asked while the candidates are locked,
        so a blob whose row commits meanwhile is seen named (its writer releases it only after).
        """
        removed = 0
        by_dir: dict[Path, list[Path]] = {}
        for path, is_partial in self._files():
            if not is_partial:
                by_dir.setdefault(path.parent, []).append(path)
        for paths in by_dir.values():
            locked = [(path, fd) for path in paths if (fd := _lock_if_free(path)) is not None]
            try:
                if not locked:
                    continue
                kept = set(named([uuid.UUID(path.name) for path, _ in locked]))
                for path, _ in locked:
                    if uuid.UUID(path.name) not in kept:
                        path.unlink(missing_ok=True)
                        removed += 1
            finally:
                for _, fd in locked:
                    os.close(fd)
        return removed

    def _files(self) -> Iterator[tuple[Path, bool]]:
        """Every file named as a blob or a partial one (nothing else in the directory is touched)."""
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if not (_SUBDIR.match(sub.name) and sub.is_dir()):
                continue
            for entry in os.scandir(sub):
                match = _BLOB_NAME.match(entry.name)
                if match and match.group(1).startswith(sub.name) and entry.is_file(follow_symlinks=False):
                    yield Path(entry.path), match.group(2) is not None

    def open_range(self, blob_id: uuid.UUID, start: int, length: int) -> OpenRange:
        """Open a blob for reading `length` bytes from `start`: FileNotFoundError now, or the bytes whole.

        Opened before the answer's headers go out: the blob can be replaced or deleted (unlinked) the
        moment the caller's transaction ends, and an open descriptor still reads the unlinked file.
        """
        src = self.path(blob_id).open("rb")
        src.seek(start)
        return OpenRange(src, length)

    def read_all(self, blob_id: uuid.UUID) -> bytes:
        return self.path(blob_id).read_bytes()

    def delete(self, blob_id: uuid.UUID) -> None:
        self.path(blob_id).unlink(missing_ok=True)
        self.settle(blob_id)


def _make_dir(directory: Path) -> None:
    """The blob's directory, its entry in the root made durable when it is new."""
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    _fsync_dir(directory.parent)


def _durable_rename(partial: Path, final: Path) -> None:
    os.replace(partial, final)
    _fsync_dir(final.parent)  # the new name survives a crash once the row naming it commits


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock_if_free(path: Path) -> int | None:
    """A descriptor holding `path`'s lock, or None if a live process holds it (or it is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Still the file of that name (not unlinked or replaced since we opened it)?
        if os.fstat(fd).st_nlink and os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _remove_if_free(path: Path) -> int:
    fd = _lock_if_free(path)
    if fd is None:
        return 0
    try:
        path.unlink(missing_ok=True)
        return 1
    finally:
        os.close(fd)
