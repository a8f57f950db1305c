"""The start-up sweep of blob debris takes only what no live writer holds (app/blobs.py, app/debris.py).

API processes share the blob directory, so one starting must not take another's upload in progress: a
`.part` file being written, or a blob written whose row is not committed yet. flock is per open file,
so a second BlobStore in this process stands for the other process.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
from sqlalchemy import Engine

from app.blobs import BlobStore
from app.debris import sweep_blob_debris
from tools.lattice.plugin.workerstate import WorkerLattice


def _store(lattice: WorkerLattice) -> BlobStore:
    return BlobStore(lattice.plane.settings().blob_dir)


def test_an_upload_in_progress_survives_another_process_start(lattice: WorkerLattice) -> None:
    writer, starting = _store(lattice), _store(lattice)
    engine: Engine = lattice.engine
    swept: list[tuple[int, int]] = []

    async def scenario() -> None:
        half_way = anyio.Event()
        go_on = anyio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield b"first half "
            half_way.set()
            await go_on.wait()
            yield b"second half"

        async with anyio.create_task_group() as tasks:
            result: list[uuid.UUID] = []

            async def upload() -> None:
                result.append((await writer.write(body(), 1000)).blob_id)

            tasks.start_soon(upload)
            await half_way.wait()
            assert list(writer.root.rglob("*.part")), "the upload has no partial file"
            swept.append(await anyio.to_thread.run_sync(sweep_blob_debris, starting, engine))
            go_on.set()
        blob_id = result[0]
        # Written, its row not committed yet (no row will ever name it here): held, so not an orphan.
        swept.append(await anyio.to_thread.run_sync(sweep_blob_debris, starting, engine))
        assert writer.path(blob_id).read_bytes() == b"first half second half"
        writer.settle(blob_id)  # the writer gives it up without a row: now it is debris
        swept.append(await anyio.to_thread.run_sync(sweep_blob_debris, starting, engine))
        assert not writer.path(blob_id).exists()

    anyio.run(scenario)
    assert swept == [(0, 0), (0, 0), (0, 1)]


def test_the_sweep_leaves_what_is_not_a_blob_shard_alone(lattice: WorkerLattice) -> None:
    """Only two-hex-digit directories are blob shards: a file named like one, and a directory named like
    none, are someone else's (an operator's note, a mount's folder) even when what they hold looks like
    a blob's partial file."""
    store = _store(lattice)
    store.root.mkdir(parents=True, exist_ok=True)
    # a shard name no earlier blob of this worker has taken (shards are named by the blob id's first byte)
    stray = store.root / next(f"{i:02x}" for i in range(256) if not (store.root / f"{i:02x}").exists())
    stray.write_text("not a shard")
    foreign = store.root / "a"
    foreign.mkdir()
    lookalike = foreign / f"a{uuid.uuid4().hex[1:]}.part"
    lookalike.write_text("not a partial blob")
    try:
        assert sweep_blob_debris(store, lattice.engine) == (0, 0)
        assert stray.read_text() == "not a shard"
        assert lookalike.read_text() == "not a partial blob"
    finally:
        stray.unlink()
        lookalike.unlink(missing_ok=True)
        foreign.rmdir()


def test_deleting_a_blob_already_gone_is_not_an_error(lattice: WorkerLattice) -> None:
    """A mark's delete that finds its blob taken already (a sweep, an operator) still succeeds."""
    store = _store(lattice)
    gone = uuid.uuid4()
    assert not store.path(gone).exists()
    store.delete(gone)
    assert not store.path(gone).exists()
