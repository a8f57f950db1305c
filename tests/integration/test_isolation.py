"""The five planes of an xdist worker: schema, Redis namespace, queue, files and accounts are named for
this worker and this run, distinct from every other worker's, and nothing written here is visible there."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import text
from sqlmodel import Session

from tests.integration.flows import create_mark
from tools.lattice.planes.naming import runs_root
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

PLANE_KEYS = ("schema", "redis_namespace", "queue_name", "directory", "blob_dir", "maildir", "user_email")


def _planes_dir(lattice: WorkerLattice) -> Path:
    return runs_root() / lattice.plane.names.run_id / "planes"


def plane_marker(lattice: WorkerLattice) -> dict[str, Any]:
    names, settings = lattice.plane.names, lattice.settings
    return {
        "tag": names.tag,
        "run_id": names.run_id,
        "pid": os.getpid(),
        "schema": settings.db_schema,
        "redis_namespace": settings.redis_namespace,
        "queue_name": lattice.runtime.ingestion.queue_name,
        "directory": str(names.directory),
        "blob_dir": str(settings.blob_dir),
        "maildir": str(lattice.plane.maildir),
        "user_email": lattice.account("user").email,
        "user_id": str(lattice.account("user").id),
    }


def write_plane_marker(lattice: WorkerLattice) -> None:
    directory = _planes_dir(lattice)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{lattice.plane.names.tag}.json"
    partial = final.with_suffix(".part")
    partial.write_text(json.dumps(plane_marker(lattice)))
    os.replace(partial, final)  # readers never see half a marker


def _markers(lattice: WorkerLattice) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(_planes_dir(lattice).glob("*.json"))]


def test_plane_names_carry_the_worker_tag_and_run_id(lattice: WorkerLattice) -> None:
    marker = plane_marker(lattice)
    tag, run_id = marker["tag"], marker["run_id"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    assert tag == f"w{worker.removeprefix('gw')}"
    assert marker["schema"] == f"test_{tag}_{run_id}"
    assert marker["redis_namespace"] == f"lattice:{run_id}:{tag}"
    assert marker["queue_name"] == f"mark_ingestion__{tag}"
    for key in ("directory", "blob_dir", "maildir"):
        assert Path(marker[key]).is_relative_to(runs_root() / run_id / tag), key
    assert tag in marker["user_email"]
    assert run_id in marker["user_email"]


def test_every_workers_planes_are_pairwise_distinct(lattice: WorkerLattice) -> None:
    markers = _markers(lattice)
    mine = plane_marker(lattice)
    assert mine["tag"] in [m["tag"] for m in markers], "this worker's marker is missing"
    assert len({m["run_id"] for m in markers}) == 1
    for key in (*PLANE_KEYS, "tag", "pid", "user_id"):
        values = [m[key] for m in markers]
        assert len(values) == len(set(values)), f"two workers share a {key}: {values}"


def test_rows_written_here_are_invisible_in_every_other_schema(
    lattice: WorkerLattice, user: SignedInUser, api: Any, db: Session
) -> None:
    mark = create_mark(api, user.headers, note="only here")
    mine = lattice.settings.db_schema
    with lattice.engine.connect() as conn:
        assert conn.execute(text("SHOW search_path")).scalar() == mine
        schemas = [
            row[0]
            for row in conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": f"test\\_w%\\_{lattice.plane.names.run_id}"},
            )
        ]
        assert mine in schemas
        found_here = conn.execute(
            text(f'SELECT count(*) FROM "{mine}".marks WHERE id = :m'),  # noqa: S608 - a schema name we made
            {"m": uuid.UUID(mark["id"])},
        ).scalar()
        assert found_here == 1
        for other in set(schemas) - {mine}:
            for table, column, value in (("marks", "id", mark["id"]), ("users", "id", str(user.id))):
                count = conn.execute(
                    text(f'SELECT count(*) FROM "{other}".{table} WHERE {column} = :v'),  # noqa: S608
                    {"v": uuid.UUID(value)},
                ).scalar()
                assert count == 0, f"{other}.{table} sees a row written by {mine}"
    for marker in _markers(lattice):
        if marker["tag"] != lattice.plane.names.tag:
            assert marker["schema"] in schemas, "another worker's schema should exist during the run"


def test_queue_keys_live_only_under_this_workers_namespace(lattice: WorkerLattice, api: Any) -> None:
    namespace = lattice.settings.redis_namespace
    queue = lattice.runtime.ingestion.queue_name
    run_prefix = f"lattice:{lattice.plane.names.run_id}:"
    lattice.worker.pause()
    lattice.runtime.ingestion.enqueue(uuid.uuid4(), 1)  # a message for no mark: swept by the reset
    client = redis.Redis.from_url(lattice.plane.redis_url)
    try:
        keys = [k.decode() for k in client.scan_iter(match=f"*{queue}*", count=1000)]
    finally:
        client.close()
    mine = [k for k in keys if k.startswith(f"{namespace}:")]
    assert f"{namespace}:{queue}.msgs" in mine, keys
    for key in keys:
        if key.startswith(run_prefix):
            assert key.startswith(f"{namespace}:"), (
                f"a key of this run outside this worker's namespace: {key}"
            )
        else:
            assert key.startswith("lattice:"), f"a queue key outside every lattice namespace: {key}"
    assert lattice.worker.pending() == 1
