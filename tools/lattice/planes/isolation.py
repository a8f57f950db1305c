"""The planes a throwaway environment owns (schema, Redis namespace, queue suffix, files), and the
run-level sweep and reaper that leave nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, create_engine

from tools.lattice.planes import schema as pg_plane
from tools.lattice.planes.naming import WorkerNames, run_started_at, runs_root
from tools.lattice.seam.target import PlaneSpec
from tools.lattice.seam.targeting import load_target

# A run with no live owner on this machine is reaped at once; one from elsewhere (a shared external
# database) only when it is old enough that it cannot still be running.
FOREIGN_RUN_MAX_AGE_S = 24 * 3600


@dataclass
class Plane:
    """One throwaway environment (an xdist worker, a drill, the peer run) on every plane: its schema,
    Redis namespace, queue suffix and files, all named after its run (so a killed run's are reaped)."""

    names: WorkerNames
    database_url: str
    redis_url: str
    schema: str | None = None  # another than the run's (a drill migrates `public` of a set it owns)
    bootstrap_s: dict[str, float] = field(default_factory=dict)

    @property
    def spec(self) -> PlaneSpec:
        return PlaneSpec(
            database_url=self.database_url,
            redis_url=self.redis_url,
            db_schema=self.schema or self.names.schema,
            redis_namespace=self.names.redis_namespace,
            queue_suffix=self.names.queue_suffix,
            data_dir=self.names.directory,
        )

    @property
    def blob_dir(self) -> Path:
        return self.spec.blob_dir

    @property
    def maildir(self) -> Path:
        return self.spec.maildir

    def settings(self, **overrides: object) -> Any:
        """The app's settings on this plane (the one settings factory: the target's)."""
        return load_target().plane_settings(self.spec, **overrides)

    def create(self, engine: Engine | None = None) -> None:
        """Its schema at migration head and its directories (over `engine`, or one of its own)."""
        started = time.perf_counter()
        own = engine is None
        engine = engine or create_engine(_sqlalchemy_url(self.database_url))
        try:
            self.bootstrap_s["schema"] = pg_plane.create_schema(engine, self.spec.db_schema)
        finally:
            if own:
                engine.dispose()
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.maildir.mkdir(parents=True, exist_ok=True)
        self.bootstrap_s["planes"] = time.perf_counter() - started

    def reset_files(self) -> bool:
        """Empty the blob dir and the Maildir if the test wrote to them."""
        touched = False
        for root in (self.blob_dir, self.maildir / "new", self.maildir / "cur"):
            if root.is_dir() and any(root.iterdir()):
                touched = True
                for child in root.iterdir():
                    _remove(child)
        return touched

    def sweep(self) -> None:
        """Remove everything of this plane's run (the one sweep, also used at a run's end)."""
        sweep_run(self.names.run_id, self.database_url, self.redis_url)


def _remove(path: Path) -> None:
    # A live API may still be removing files of its own (the partial blob of an aborted upload) while
    # the reset runs: a file or folder that is already gone is what the reset wanted.
    try:
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                _remove(child)
            path.rmdir()
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def record_run(run_id: str) -> Path:
    """Mark the run as owned by this process, so a later run can tell whether it is still alive."""
    root = runs_root() / run_id
    root.mkdir(parents=True, exist_ok=True)
    (root / "owner.json").write_text(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
    return root


def _owner_alive(run_dir: Path) -> bool:
    try:
        pid = int(json.loads((run_dir / "owner.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _redis_keys(client: redis.Redis, pattern: str) -> Iterator[bytes]:
    yield from client.scan_iter(match=pattern, count=1000)


def sweep_run(run_id: str, database_url: str, redis_url: str) -> None:
    """Remove every schema, Redis key and file of one run (used at the end, pass or fail)."""
    engine = create_engine(_sqlalchemy_url(database_url))
    try:
        with engine.begin() as conn:
            pg_plane.drop_schemas(conn, pg_plane.schemas_of_runs(conn).get(run_id, []))
    finally:
        engine.dispose()
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(_redis_keys(client, f"lattice:{run_id}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    shutil.rmtree(runs_root() / run_id, ignore_errors=True)


def reap_dead_runs(current_run: str, database_url: str, redis_url: str) -> list[str]:
    """Sweep leftovers of runs that were killed before they could clean up; returns their ids."""
    engine = create_engine(_sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            runs = set(pg_plane.schemas_of_runs(conn))
    finally:
        engine.dispose()
    root = runs_root()
    if root.is_dir():
        runs.update(p.name for p in root.iterdir() if p.is_dir())
    client = redis.Redis.from_url(redis_url)
    try:
        runs.update(
            key.split(b":")[1].decode() for key in _redis_keys(client, "lattice:*") if key.count(b":") >= 2
        )
    finally:
        client.close()
    dead = []
    for run_id in sorted(runs - {current_run}):
        run_dir = root / run_id
        if run_dir.is_dir():
            if _owner_alive(run_dir):
                continue
        elif time.time() - run_started_at(run_id) < FOREIGN_RUN_MAX_AGE_S:
            continue
        sweep_run(run_id, database_url, redis_url)
        dead.append(run_id)
    return dead


def _sqlalchemy_url(url: str) -> str:
    return load_target().sqlalchemy_url(url)
