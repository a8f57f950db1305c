"""Network drills: the live stack reaches its PostgreSQL and Redis through the fault plane
(tools/lattice/live/faults), whose faults each drill switches on mid-run and off again.

One embedded PostgreSQL + Redis pair, one fault plane and one live stack serve the module (a network
fault harms no server: each drill heals the paths and checks recovery before the next). The service's
settings point at the proxies; the drill's own checks go to the servers directly.

Asserted, per drill:
- every request is answered (never a transport error, never a 500) within the bound its settings
  document (docs/api.md, "Timeouts") for the dependency at fault, plus SLACK_S for this shared machine;
  a 503 is a problem body with Retry-After;
- under added latency (50 ms, 500 ms a round trip) everything still succeeds: no timeout misfires;
- during a partition (silent: nothing passes, no RST; asymmetric: requests pass, replies vanish)
  `/readyz` is 503 `not_ready`, and ready again within RECOVERY_S of the heal;
- the worker resumes within RECOVERY_S of the heal, and nothing acknowledged is lost or doubled:
  every mark answered 201 exists once and ends `success` at version 1 (the worker's duplicates, e.g.
  a delivery whose ack a partition swallowed, are no-ops).

Figures (worst request latency, 503s, time to ready, time to the first ingestion after the heal) go to
`<logs>/drills/<drill>.json`. The partition lasts LATTICE_DRILL_PARTITION_S (default 15 s, to keep CI
short; the issue's figure is 30 s and passes the same way).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.integration.flows import Json, create_mark, wait_for_ingestion
from tests.live.drills import ready, signed_in, until
from tools.lattice.live.faults import FaultPlane, FaultsUnavailable, fault_plane
from tools.lattice.live.faults.netfilter import check_privilege
from tools.lattice.live.fixtures import drill_stack
from tools.lattice.live.stack import LiveStack
from tools.lattice.seam.accounts import SignedInUser
from tools.lattice.services import start_services

pytestmark = [pytest.mark.live, pytest.mark.drill]

PARTITION_S = float(os.environ.get("LATTICE_DRILL_PARTITION_S", "15"))
# What the shared 2-core machine may add to a documented bound.
SLACK_S = 3.0
# The worker and /readyz are back within this long of the heal: the worker's consumer restarts 3 s
# after a connection error, the requeue loop looks every 0.5 s here, and a message whose deliveries all
# fell into the partition is sent again after `requeue_after_s`.
RECOVERY_S = 20.0
# Set for the drills: how old a sent-but-unfinished message must be before the requeue loop sends it
# again (the default, 600 s, would make a drill wait ten minutes for a message a partition dropped).
REQUEUE_AFTER_S = 5.0
# A request that gets no answer at all within this long is a hang (the client gives up).
CLIENT_TIMEOUT_S = 60.0


def dependency_bound_s(settings: Settings, dependency: str) -> float:
    """docs/api.md, "Timeouts": the longest a request waits on `dependency` when it does not answer."""
    if dependency == "postgres":
        return settings.db_connect_timeout_s + settings.db_tcp_user_timeout_ms / 1000
    return 2 * settings.redis_timeout_s  # a connection, then one reply


@dataclass
class Network:
    plane: FaultPlane
    stack: LiveStack
    settings: Settings
    client: httpx.Client


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    try:
        check_privilege()
    except FaultsUnavailable as exc:
        pytest.skip(str(exc))
    with (
        start_services(provider="embedded") as services,
        fault_plane(services) as plane,
        drill_stack(
            services,
            database_url=plane.database_url,
            redis_url=plane.redis_url,
            requeue_after_s=REQUEUE_AFTER_S,
        ) as (stack, settings),
        httpx.Client(base_url=stack.base_url, timeout=CLIENT_TIMEOUT_S) as client,
    ):
        yield Network(plane, stack, settings, client)


@dataclass
class Drill:
    """One drill's requests, each timed and checked against a bound; its figures for the log."""

    network: Network
    person: SignedInUser
    figures: dict[str, Any]
    bound_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    unavailable: int = 0
    acknowledged: list[str] = field(default_factory=list)  # ids of marks answered 201
    _seq: int = 0

    @property
    def client(self) -> httpx.Client:
        return self.network.client

    def call(self, name: str, send: Callable[[], httpx.Response], allowed: set[int]) -> httpx.Response:
        started = time.monotonic()
        response = send()
        took = time.monotonic() - started
        self.latencies.append(took)
        assert response.status_code in allowed, f"{name}: {response.status_code} {response.text[:300]}"
        if response.status_code == 503:
            self.unavailable += 1
            assert response.headers.get("retry-after"), f"{name}: a 503 without Retry-After"
            assert response.headers["content-type"].startswith("application/problem+json")
        if self.bound_s:
            assert took <= self.bound_s, f"{name} took {took:.1f}s, past the bound of {self.bound_s:.1f}s"
        return response

    def create(self, allowed: set[int]) -> httpx.Response:
        self._seq += 1
        response = self.call(
            "create_mark",
            lambda: self.client.post(
                "/v1/marks", json={"note": f"drill mark {self._seq}"}, headers=self.person.headers
            ),
            allowed,
        )
        if response.status_code == 201:
            self.acknowledged.append(response.json()["id"])
        return response

    def workload(self, allowed: set[int], *, readyz: set[int] | None = None) -> None:
        """One round of what a client does: readiness, reading, writing."""
        headers = self.person.headers
        self.call("readyz", lambda: self.client.get("/readyz"), readyz or allowed)
        self.call("get_me", lambda: self.client.get("/v1/me", headers=headers), allowed - {201})
        self.call("list_marks", lambda: self.client.get("/v1/marks", headers=headers), allowed - {201})
        self.create(allowed)

    def nothing_lost_or_doubled(self) -> list[Json]:
        """Every acknowledged mark exists once and is ingested once; returns the person's marks."""
        items: list[Json] = self.client.get(
            "/v1/marks", headers=self.person.headers, params={"limit": 100}
        ).json()["items"]
        notes = [m["note"] for m in items]
        assert len(notes) == len(set(notes)), f"a mark was created twice: {sorted(notes)}"
        ids = {m["id"] for m in items}
        assert set(self.acknowledged) <= ids, "an acknowledged mark is missing"
        self.figures["saved_though_not_acknowledged"] = len(ids - set(self.acknowledged))
        done = []
        for mark in items:
            done.append(
                wait_for_ingestion(self.client, self.person.headers, mark["id"], timeout_s=RECOVERY_S)
            )
            ingestion = done[-1]["ingestion"]
            assert (ingestion["status"], ingestion["version"]) == ("success", 1), ingestion
            assert ingestion["result"]["word_count"] == len(mark["note"].split()), ingestion
        return done

    def record(self) -> None:
        self.figures["requests"] = len(self.latencies)
        self.figures["worst_request_s"] = round(max(self.latencies, default=0.0), 3)
        self.figures["answered_503"] = self.unavailable
        self.figures["bound_s"] = self.bound_s


@pytest.fixture
def drill(network: Network, drill_log: dict[str, Any]) -> Iterator[Drill]:
    network.plane.heal()
    until(lambda: ready(network.client), RECOVERY_S, "/readyz 200 before the drill")
    person = signed_in(network.settings, network.client)
    current = Drill(network, person, drill_log)
    try:
        yield current
    finally:
        network.plane.heal()
        current.record()
    assert network.stack.processes["api"].poll() is None, "the API process died"
    assert network.stack.processes["worker"].poll() is None, "the worker process died"


def _recovery(drill: Drill, healed_at: float) -> None:
    """/readyz and the worker back within RECOVERY_S of the heal; the figures of both."""
    until(lambda: ready(drill.client), RECOVERY_S, "/readyz 200 after the heal")
    drill.figures["ready_after_heal_s"] = round(time.monotonic() - healed_at, 3)
    mark = create_mark(drill.client, drill.person.headers, note="after the heal")
    drill.acknowledged.append(mark["id"])
    done = wait_for_ingestion(drill.client, drill.person.headers, mark["id"], timeout_s=RECOVERY_S)
    assert done["ingestion"]["status"] == "success", done["ingestion"]
    drill.figures["worker_done_after_heal_s"] = round(time.monotonic() - healed_at, 3)
    assert drill.figures["worker_done_after_heal_s"] <= RECOVERY_S + SLACK_S


# ---- a slow link: everything still works, only slower


@pytest.mark.parametrize("added_ms", [50, 500])
@pytest.mark.parametrize("dependency", ["postgres", "redis"])
def test_added_latency_slows_but_breaks_nothing(drill: Drill, dependency: str, added_ms: int) -> None:
    network = drill.network
    # A slow link is not a dead one: the bound of a dependency that does not answer still holds, and
    # nothing may be refused.
    drill.bound_s = dependency_bound_s(network.settings, dependency) + SLACK_S
    network.plane[dependency].latency(added_ms / 1000)
    drill.figures["added_round_trip_ms"] = added_ms
    for _ in range(3):
        drill.workload({200, 201})
    for mark in drill.nothing_lost_or_doubled():
        assert mark["ingestion"]["attempts"] == 1, "a working link cost an attempt"


# ---- a lossy link: answers, or 503 + Retry-After, within the bounds; nothing lost


@pytest.mark.parametrize("loss", [0.1, 0.5])
def test_packet_loss_on_both_dependencies(drill: Drill, loss: float) -> None:
    network = drill.network
    # Each wait is bounded; a request's time is the sum of its round trips' waits. At 10 % the sum stays
    # inside one dependency bound each; at 50 % (one exchange in four gets through) retransmissions add
    # up over a request's handful of round trips and the service has no deadline per request (docs/api.md
    # says so), so the drill holds it to answering at all (the client's timeout) and records the worst.
    if loss <= 0.1:
        drill.bound_s = (
            dependency_bound_s(network.settings, "postgres")
            + dependency_bound_s(network.settings, "redis")
            + SLACK_S
        )
    drill.figures["loss"] = loss
    for path in network.plane.paths.values():
        path.loss(loss)
    for _ in range(3 if loss <= 0.1 else 1):
        drill.workload({200, 201, 503})
    network.plane.heal()
    _recovery(drill, time.monotonic())
    drill.nothing_lost_or_doubled()


# ---- partitions: silent both ways, or asymmetric (requests pass, replies vanish)


@pytest.mark.parametrize("kind", ["silent", "asymmetric"])
@pytest.mark.parametrize("dependency", ["postgres", "redis"])
def test_partition_then_heal(drill: Drill, dependency: str, kind: str) -> None:
    network = drill.network
    drill.bound_s = dependency_bound_s(network.settings, dependency) + SLACK_S
    drill.figures["partition_s"] = PARTITION_S
    # Work in flight as the link goes: the worker is ingesting these when the partition starts.
    for _ in range(2):
        drill.create({201})
    # While PostgreSQL is cut off every request needs it (the session lookup): 503. While Redis is,
    # reading works and a mark is saved (201, pending) for the requeue loop to send later.
    allowed = {503} if dependency == "postgres" else {200, 201}
    started, rounds = time.monotonic(), 0
    with network.plane[dependency].partitioned(requests=kind == "silent"):
        while time.monotonic() - started < PARTITION_S:
            drill.workload(allowed, readyz={503})
            rounds += 1
    drill.figures["rounds_during_partition"] = rounds
    _recovery(drill, time.monotonic())
    drill.nothing_lost_or_doubled()
