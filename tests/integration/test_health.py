"""Health: /healthz while the process runs, /readyz 200 with its dependencies and 503 without them."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from app.main import create_app
from tests.integration.flows import assert_problem
from tools.lattice.plugin.workerstate import WorkerLattice

NOTHING_LISTENS = {
    "database_url": "postgresql://postgres@127.0.0.1:1/x",
    "redis_url": "redis://127.0.0.1:1/0",
}


def test_healthz(api: httpx.Client) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_with_database_and_redis(api: httpx.Client) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_naming_both_when_neither_answers(lattice: WorkerLattice) -> None:
    app = create_app(
        settings=lattice.plane.settings(**NOTHING_LISTENS, db_connect_timeout_s=1, redis_timeout_s=1)
    )
    with TestClient(app, base_url="http://retrace.test") as client:
        assert client.get("/healthz").status_code == 200, "liveness must not depend on the database"
        body = assert_problem(client.get("/readyz"), 503, "not_ready")
    assert "database" in body["detail"]
    assert "redis" in body["detail"]


def test_readyz_names_only_what_is_down(lattice: WorkerLattice) -> None:
    app = create_app(
        settings=lattice.plane.settings(redis_url=NOTHING_LISTENS["redis_url"], redis_timeout_s=1)
    )
    with TestClient(app, base_url="http://retrace.test") as client:
        body = assert_problem(client.get("/readyz"), 503, "not_ready")
    assert "redis" in body["detail"]
    assert "database" not in body["detail"]
