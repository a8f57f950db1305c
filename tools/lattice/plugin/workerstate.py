"""Everything one xdist worker builds once: its plane, the app on it, a real Dramatiq worker, accounts."""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning

from tools.lattice.planes.isolation import Plane
from tools.lattice.planes.queue import ActorErrors, DrainableWorker
from tools.lattice.planes.reset import Resetter
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in
from tools.lattice.seam.target import AppUnderTest
from tools.lattice.seam.targeting import load_target

with warnings.catch_warnings():
    # Starlette 1.x's TestClient asks for httpx2 (a separate package, module `httpx2`) and warns on
    # httpx. Kept on httpx 0.28 on purpose: the SDK openapi-python-client generates, the lattice's own
    # clients and the tests all speak httpx, and the SDK flow hands the TestClient to the SDK as its httpx
    # client: with httpx2 it would be an httpx2.Client, whose responses and errors are not httpx's. The
    # warning is silenced here, where the plugin imports it (tmp projects under the plugin saw it), and
    # in pyproject.toml's filterwarnings for the project's own runs.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROLES = ("user", "other")


@dataclass
class WorkerLattice:
    plane: Plane
    settings: Any  # the app's settings on this plane
    app: AppUnderTest
    client: TestClient
    mailbox: Mailbox
    worker: DrainableWorker
    resetter: Resetter
    accounts: dict[str, SignedInUser] = field(default_factory=dict)
    reset_ms: list[float] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.app.engine

    @property
    def runtime(self) -> Any:
        """The app's own wiring (whatever the target's `build` put there)."""
        return self.app.runtime

    @classmethod
    def bootstrap(cls, plane: Plane) -> WorkerLattice:
        started = time.perf_counter()
        settings = plane.settings()
        errors = ActorErrors()
        app = load_target().build(settings, [errors])
        plane.create(app.engine)
        client = TestClient(app.asgi, base_url="http://lattice.test")
        client.__enter__()
        lattice = cls(
            plane=plane,
            settings=settings,
            app=app,
            client=client,
            mailbox=Mailbox(plane.maildir),
            worker=DrainableWorker(app, errors),
            resetter=Resetter(app.engine),
        )
        for role in ROLES:
            lattice.account(role)
        plane.bootstrap_s["total"] = time.perf_counter() - started
        return lattice

    def account(self, role: str) -> SignedInUser:
        """The worker's disposable account for `role`, signed in through the real flow. Accounts are part
        of the snapshot every reset puts back, so they survive whatever a test does to them."""
        if role not in self.accounts:
            self.accounts[role] = sign_in(
                self.client, self.mailbox, self.plane.names.email(role), with_api_token=True
            )
            self.plane.reset_files()  # the sign-in mail is not part of any test
            self.resetter.snapshot()
        return self.accounts[role]

    def reset(self) -> None:
        started = time.perf_counter()
        self.worker.pause()
        if self.worker.pending():
            self.worker.flush()
        self.resetter.reset()
        self.plane.reset_files()
        self.reset_ms.append((time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self.resetter.close()
        self.worker.stop()
        self.client.__exit__(None, None, None)  # the app's lifespan closes what it opened

    def figures(self) -> dict[str, float]:
        figures = {f"bootstrap_{k}_s": round(v, 4) for k, v in self.plane.bootstrap_s.items()}
        if self.reset_ms:
            figures["reset_median_ms"] = round(statistics.median(self.reset_ms), 3)
        return figures
