"""A burst: N concurrent clients (default 200) x a few rounds of GET /v1/me, GET /v1/marks?limit=100 and
GET /readyz, while PostgreSQL and Redis are healthy. A busy service may answer slower; it must not fail:
no 5xx and no dropped connection. p50/p99 and the status counts are printed and kept in the figures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tools.lattice.engines.race.burst import burst
from tools.lattice.engines.race.figures import probe
from tools.lattice.engines.race.options import RaceOptions
from tools.lattice.live.stack import LiveStack
from tools.lattice.seam.accounts import SignedInUser

pytestmark = pytest.mark.live

PATHS = ("/v1/me", "/v1/marks?limit=100", "/readyz")
MARKS = 100


def test_a_burst_gets_no_server_errors(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser, race_options: RaceOptions
) -> None:
    def create(n: int) -> int:
        body = {"url": f"https://burst.test/{n}", "note": f"mark {n}", "tags": ["burst"]}
        return live.post("/v1/marks", json=body, headers=person.headers).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(create, range(MARKS))) == {201}
    assert live.get("/readyz").status_code == 200, "the stack must be ready before the burst"

    result = burst(
        live_stack.base_url,
        PATHS,
        clients=race_options.clients,
        rounds=race_options.rounds,
        headers=person.headers,
    )
    print(result.line())
    probe("burst", **result.as_json())
    assert live.get("/readyz").status_code == 200, "the dependencies must still be healthy after the burst"
    assert result.server_errors == 0, (
        f"{result.server_errors} of {sum(result.statuses.values())} answers were 5xx or errors "
        f"while PostgreSQL and Redis were healthy: {result.as_json()['by_path']}; e.g. {result.samples[:3]}"
    )
