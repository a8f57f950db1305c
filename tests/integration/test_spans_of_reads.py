"""The opt-in spans on the real read paths: each names the parts its route takes (app/spans.py says what
each covers), in the order they happen, so `nox -s perf -- --profile` reads what it says it reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.main import create_app
from tests.integration.flows import create_mark
from tools.lattice import SignedInUser, WorkerLattice

# The parts a read through Runtime.in_db_thread records, besides its statements' spans.
HOPS = ("dispatch", "slot_hop", "hop_back", "serialise", "send", "close")


@pytest.fixture
def recorded(lattice: WorkerLattice, tmp_path: Path) -> tuple[TestClient, Path]:
    path = tmp_path / "spans.jsonl"
    return TestClient(
        create_app(lattice.plane.settings(spans_path=path)), base_url="http://retrace.test"
    ), path


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_read_records_the_spans_of_its_path(
    recorded: tuple[TestClient, Path], api: httpx.Client, user: SignedInUser
) -> None:
    client, path = recorded
    mark = create_mark(api, user.headers, note="spans")
    with client:
        assert client.get(f"/v1/marks/{mark['id']}", headers=user.headers).status_code == 200
        assert client.get("/v1/marks", headers=user.headers).status_code == 200
        assert client.get("/v1/me", headers=user.headers).status_code == 200
    get, listed, me = (r for r in _records(path) if r["route"] != "/healthz")
    assert get["route"] == "/v1/marks/{mark_id}"
    assert listed["route"] == "/v1/marks"
    assert me["route"] == "/v1/me"
    for record in (get, listed, me):
        assert record["method"] == "GET"
        for name in HOPS:
            assert isinstance(record[name], float), (record["route"], name)
            assert record[name] >= 0.0, (record["route"], name)
        assert not any(str(name).startswith("@") for name in record), "every mark became a span"
        parts = sum(record[n] for n in ("dispatch", "slot_hop", "hop_back", "serialise", "send"))
        assert parts <= record["app_total"] + 0.5, record
    # Each read: the token's checks, its statements, its answer's models (the GET's token lookup is in its
    # one statement, so its `query` holds both).
    for record, spans in (
        (get, ("auth", "query", "build")),
        (listed, ("auth", "query", "build")),
        (me, ("auth",)),
    ):
        missing = [name for name in spans if not isinstance(record.get(name), float)]
        assert not missing, (record["route"], missing)


def test_a_refused_read_still_records_its_line(recorded: tuple[TestClient, Path]) -> None:
    client, path = recorded
    with client:
        assert client.get("/v1/marks", headers={"Authorization": "Bearer nope"}).status_code == 401
    (record,) = [r for r in _records(path) if r["route"] == "/v1/marks"]
    assert record["send"] >= 0.0
    assert "auth" in record, "the token lookup ran (and refused) inside its span"
