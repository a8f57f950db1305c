"""Fault drills: a live stack on a service set the drill owns, then a fault, then recovery.

Each drill starts its own embedded PostgreSQL + Redis (never the run's shared set), migrates it,
runs uvicorn and `retrace worker` on it, and breaks one thing:

- the worker process is SIGKILLed while it holds a message: after a restart the message is
  redelivered (dead-worker maintenance of Dramatiq's Redis broker) and the mark reaches `success`
  once, with attempts 2 and nothing left on the queue;
- Redis, then PostgreSQL, is stopped and started again on the same port and data: while it is down
  `/readyz` is 503 and every request gets a problem body (no hang, no 500); afterwards everything
  works again without restarting the service; a mark created while Redis is down is saved (201,
  pending) and ingested once Redis is back, by the worker's requeue loop, without the client's help;
- a lock holds `marks` past a short statement timeout: requests needing it get a 503 problem, and
  work again once the lock is released.

Timings are printed and written to `<logs>/drills/<drill>.json`; they are figures, not assertions.
The only time bound asserted is the client's timeout (DOWN_TIMEOUT_S): an answer must come at all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from app.ingestion.queue import QUEUE, make_broker
from app.settings import Settings
from tests.integration.flows import (
    Json,
    assert_problem,
    create_mark,
    get_mark,
    unique_email,
    wait_for_ingestion,
)
from tests.live.drills import ready, signed_in, timed, until
from tools.lattice.live.fixtures import drill_stack
from tools.lattice.seam.accounts import SignedInUser
from tools.lattice.services import ServiceSet, start_services

pytestmark = [pytest.mark.live, pytest.mark.drill]

# How long a request may take while a dependency is down before we call it a hang.
DOWN_TIMEOUT_S = 20.0
RECOVERY_TIMEOUT_S = 60.0


@pytest.fixture
def services() -> Iterator[ServiceSet]:
    """An embedded PostgreSQL + Redis pair for this drill alone (it will stop and start them)."""
    with start_services(provider="embedded") as owned:
        assert owned.control is not None
        yield owned


def _ingestion_row(settings: Settings, mark_id: str) -> tuple[str, int, int]:
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, version, attempts FROM ingestions WHERE mark_id = %s", (uuid.UUID(mark_id),)
        ).fetchone()
    assert row is not None, f"no ingestion row for {mark_id}"
    return str(row[0]), int(row[1]), int(row[2])


def _queue_size(settings: Settings) -> int:
    broker = make_broker(settings)
    try:
        return int(broker.do_qsize(settings.queue_name(QUEUE)))
    finally:
        broker.close()


# ---- the worker process dies with a message in hand


def test_killed_worker_message_is_redelivered_and_ingested_once(
    services: ServiceSet, drill_log: dict[str, Any]
) -> None:
    with drill_stack(
        services,
        with_worker=False,
        # A dead worker is noticed after 2 s of silence, by a maintenance pass on every broker command.
        broker_heartbeat_timeout_ms=2000,
        broker_maintenance_chance=1_000_000,
        db_statement_timeout_ms=0,  # the worker must wait on our lock, however long the drill takes
    ) as (stack, settings):
        client = httpx.Client(base_url=stack.base_url, timeout=DOWN_TIMEOUT_S)
        person = signed_in(settings, client)
        mark = create_mark(client, person.headers, url="https://Example.org/drill", note="one two three")
        assert _ingestion_row(settings, mark["id"]) == ("pending", 1, 0)

        # Hold the marks table so the worker blocks inside the job, after claiming it.
        with psycopg.connect(settings.database_url or "") as blocker:
            blocker.execute("LOCK TABLE marks IN ACCESS EXCLUSIVE MODE")
            worker = stack.start_worker()
            drill_log["claimed_after_s"] = until(
                lambda: _ingestion_row(settings, mark["id"])[0] == "processing",
                RECOVERY_TIMEOUT_S,
                "the worker claiming the message",
            )
            worker.kill()  # SIGKILL: no chance to requeue or ack
            worker.wait()
            blocker.rollback()
        killed_at = time.monotonic()
        assert _ingestion_row(settings, mark["id"]) == ("processing", 1, 1)

        stack.start_worker()
        done = wait_for_ingestion(client, person.headers, mark["id"], timeout_s=RECOVERY_TIMEOUT_S)
        drill_log["redelivered_and_done_after_kill_s"] = round(time.monotonic() - killed_at, 3)
        ingestion = done["ingestion"]
        drill_log["final_ingestion"] = ingestion
        assert ingestion["status"] == "success", ingestion
        assert (ingestion["version"], ingestion["attempts"]) == (1, 2), "one killed delivery, one redelivery"
        assert ingestion["result"] == {
            "normalized_url": "https://example.org/drill",
            "word_count": 3,
            "title": "example.org",
        }
        until(lambda: _queue_size(settings) == 0, RECOVERY_TIMEOUT_S, "the queue draining")
        # Nothing doubled: the success stands as it was first written.
        assert get_mark(client, person.headers, mark["id"])["ingestion"] == ingestion
        client.close()


# ---- Redis and PostgreSQL go away and come back


def _baseline(client: httpx.Client, person: SignedInUser) -> None:
    mark = create_mark(client, person.headers, note="before the fault")
    assert wait_for_ingestion(client, person.headers, mark["id"])["ingestion"]["status"] == "success"


def _recovers(client: httpx.Client, person: SignedInUser, drill_log: dict[str, Any]) -> Json:
    drill_log["ready_again_after_restart_s"] = until(lambda: ready(client), RECOVERY_TIMEOUT_S, "/readyz 200")
    started = time.monotonic()
    mark = create_mark(client, person.headers, url="https://example.net/after", note="after the fault")
    done = wait_for_ingestion(client, person.headers, mark["id"], timeout_s=RECOVERY_TIMEOUT_S)
    drill_log["new_mark_ingested_after_s"] = round(time.monotonic() - started, 3)
    assert done["ingestion"]["status"] == "success", done["ingestion"]
    return done


def test_redis_down_then_back(services: ServiceSet, drill_log: dict[str, Any]) -> None:
    assert services.control is not None
    with drill_stack(services) as (stack, settings):
        client = httpx.Client(base_url=stack.base_url, timeout=DOWN_TIMEOUT_S)
        person = signed_in(settings, client)
        _baseline(client, person)

        services.control.stop_server("redis")
        answers: dict[str, float] = {}
        response, answers["readyz"] = timed(lambda: client.get("/readyz"))
        assert_problem(response, 503, "not_ready")
        response, answers["healthz"] = timed(lambda: client.get("/healthz"))
        assert response.status_code == 200
        response, answers["get_me"] = timed(lambda: client.get("/v1/me", headers=person.headers))
        assert response.status_code == 200, "reading needs no Redis"
        response, answers["list_marks"] = timed(lambda: client.get("/v1/marks", headers=person.headers))
        assert response.status_code == 200
        response, answers["create_mark"] = timed(
            lambda: client.post("/v1/marks", json={"note": "while redis is down"}, headers=person.headers)
        )
        assert response.status_code == 201, "a mark is saved even while its message cannot be sent"
        created_while_down = response.json()
        assert created_while_down["ingestion"]["status"] == "pending"
        drill_log["answers_while_down_s"] = answers

        services.control.start_server("redis")
        _recovers(client, person, drill_log)
        assert stack.processes["worker"].poll() is None, "the worker process did not survive the outage"
        assert stack.processes["api"].poll() is None

        # The requeue loop of the worker process sends the message the outage kept back: the mark is
        # ingested without any action of the client, and exists once.
        items = client.get("/v1/marks", headers=person.headers, params={"limit": 100}).json()["items"]
        assert [m["id"] for m in items if m["note"] == "while redis is down"] == [created_while_down["id"]]
        rescued = wait_for_ingestion(
            client, person.headers, created_while_down["id"], version=1, timeout_s=RECOVERY_TIMEOUT_S
        )
        assert rescued["ingestion"]["status"] == "success"
        drill_log["mark_created_during_outage"] = rescued["ingestion"]
        client.close()


def test_postgres_down_then_back(services: ServiceSet, drill_log: dict[str, Any]) -> None:
    assert services.control is not None
    with drill_stack(services) as (stack, settings):
        client = httpx.Client(base_url=stack.base_url, timeout=DOWN_TIMEOUT_S)
        person = signed_in(settings, client)
        _baseline(client, person)

        services.control.stop_server("postgres")
        answers: dict[str, float] = {}
        response, answers["readyz"] = timed(lambda: client.get("/readyz"))
        assert_problem(response, 503, "not_ready")
        response, answers["healthz"] = timed(lambda: client.get("/healthz"))
        assert response.status_code == 200
        calls: dict[str, Callable[[], httpx.Response]] = {
            "get_me": lambda: client.get("/v1/me", headers=person.headers),
            "list_marks": lambda: client.get("/v1/marks", headers=person.headers),
            "create_mark": lambda: client.post("/v1/marks", json={"note": "x"}, headers=person.headers),
            "request_code": lambda: client.post("/v1/auth/otp", json={"email": unique_email("down")}),
        }
        for name, call in calls.items():
            response, answers[name] = timed(call)
            assert_problem(response, 503, "service_unavailable")
        drill_log["answers_while_down_s"] = answers

        services.control.start_server("postgres")
        _recovers(client, person, drill_log)
        assert client.get("/v1/me", headers=person.headers).status_code == 200, (
            "the session outlived the outage"
        )
        assert stack.processes["worker"].poll() is None
        assert stack.processes["api"].poll() is None
        client.close()


# ---- a database that answers too slowly


def test_statement_timeout_turns_a_blocked_request_into_503(
    services: ServiceSet, drill_log: dict[str, Any]
) -> None:
    with drill_stack(services, db_statement_timeout_ms=300) as (stack, settings):
        client = httpx.Client(base_url=stack.base_url, timeout=DOWN_TIMEOUT_S)
        person = signed_in(settings, client)
        create_mark(client, person.headers, note="exists")

        answers: dict[str, float] = {}
        with psycopg.connect(settings.database_url or "") as blocker:
            blocker.execute("LOCK TABLE marks IN ACCESS EXCLUSIVE MODE")
            response, answers["list_marks"] = timed(lambda: client.get("/v1/marks", headers=person.headers))
            assert_problem(response, 503, "service_unavailable")
            response, answers["create_mark"] = timed(
                lambda: client.post("/v1/marks", json={"note": "blocked"}, headers=person.headers)
            )
            assert_problem(response, 503, "service_unavailable")
            response, answers["get_me"] = timed(lambda: client.get("/v1/me", headers=person.headers))
            assert response.status_code == 200, "requests that do not touch marks are not blocked"
            blocker.rollback()
        drill_log["answers_while_locked_s"] = answers

        response, drill_log["list_after_release_s"] = timed(
            lambda: client.get("/v1/marks", headers=person.headers)
        )
        assert response.status_code == 200
        notes = [m["note"] for m in response.json()["items"]]
        assert notes == ["exists"], "the blocked create must not have half-happened"
        created = create_mark(client, person.headers, note="after the lock")
        assert wait_for_ingestion(client, person.headers, created["id"])["ingestion"]["status"] == "success"
        client.close()
