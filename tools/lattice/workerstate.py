"""Everything one xdist worker builds once: its planes, app, client, real Dramatiq worker, accounts."""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.ingestion.queue import make_broker
from app.main import create_app
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tools.lattice import schema as pg_plane
from tools.lattice.accounts import Mailbox, SignedInUser, sign_in
from tools.lattice.isolation import WorkerPlane
from tools.lattice.queue import ActorErrors, DrainableWorker

ROLES = ("user", "other")


@dataclass
class WorkerLattice:
    plane: WorkerPlane
    settings: Settings
    runtime: Runtime
    client: TestClient
    mailbox: Mailbox
    worker: DrainableWorker
    accounts: dict[str, SignedInUser] = field(default_factory=dict)
    keep: pg_plane.Keep = field(default_factory=lambda: pg_plane.Keep([], []))
    reset_ms: list[float] = field(default_factory=list)
    resetter: pg_plane.Resetter | None = None

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @classmethod
    def bootstrap(cls, plane: WorkerPlane) -> WorkerLattice:
        started = time.perf_counter()
        settings = plane.settings()
        broker = make_broker(settings)
        errors = ActorErrors()
        broker.add_middleware(errors)
        runtime = build_runtime(settings, broker=broker)
        plane.create(runtime.engine)
        client = TestClient(create_app(runtime=runtime), base_url="http://retrace.test")
        client.__enter__()
        lattice = cls(
            plane=plane,
            settings=settings,
            runtime=runtime,
            client=client,
            mailbox=Mailbox(plane.maildir),
            worker=DrainableWorker(runtime.ingestion, errors),
        )
        for role in ROLES:
            lattice.account(role)
        lattice.reset()
        plane.bootstrap_s["total"] = time.perf_counter() - started
        return lattice

    def account(self, role: str) -> SignedInUser:
        """The worker's disposable account for `role`, signed in through the real OTP flow."""
        if role not in self.accounts:
            self.accounts[role] = sign_in(
                self.client, self.mailbox, self.plane.names.email(role), with_api_token=True
            )
            self._refresh_keep()
        return self.accounts[role]

    def _refresh_keep(self) -> None:
        users = [account.id for account in self.accounts.values()]
        with self.engine.connect() as conn:
            tokens = conn.scalars(text("SELECT id FROM tokens WHERE user_id = ANY(:u)"), {"u": users}).all()
        self.keep = pg_plane.Keep(users=users, tokens=[uuid.UUID(str(t)) for t in tokens])

    def reset(self) -> None:
        started = time.perf_counter()
        self.worker.pause()
        if self.worker.pending():
            self.worker.flush()
        if self.resetter is None:
            self.resetter = pg_plane.Resetter(self.engine)
        result = self.resetter.reset(self.keep)
        self.plane.reset_files()
        if not result.accounts_intact:
            # A test deleted an account (DELETE /v1/me): sign it in afresh on next use.
            self.accounts.clear()
            self.keep = pg_plane.Keep([], [])
        self.reset_ms.append((time.perf_counter() - started) * 1000)

    def close(self) -> None:
        if self.resetter is not None:
            self.resetter.close()
        self.worker.stop()
        self.client.__exit__(None, None, None)

    def figures(self) -> dict[str, float]:
        figures = {f"bootstrap_{k}_s": round(v, 4) for k, v in self.plane.bootstrap_s.items()}
        if self.reset_ms:
            figures["reset_median_ms"] = round(statistics.median(self.reset_ms), 3)
        return figures
