"""The fault plane itself (tools/lattice/live/faults): what a drill relies on, on this run's own servers.

- a fault touches only its path: with the proxy's port cut off, the same server answers directly;
- a partition is silent: a client waits (no reset) until its own timeout;
- latency is added per direction, and removed by the heal;
- the rules of a SIGKILLed owner are removed by the next plane's reaper, not those of a live one;
- without the privilege for iptables, the plane refuses with one line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
import redis

from tools.lattice.live.faults import FaultPlane, FaultsUnavailable, fault_plane
from tools.lattice.live.faults.netfilter import CHAIN, check_privilege, iptables, owner_tag
from tools.lattice.plugin.workerstate import WorkerLattice

pytestmark = [pytest.mark.live]


@pytest.fixture
def plane(lattice: WorkerLattice) -> Iterator[FaultPlane]:
    try:
        check_privilege()
    except FaultsUnavailable as exc:
        pytest.skip(str(exc))
    with fault_plane(lattice.plane) as made:
        yield made


def _rules() -> str:
    return iptables("-S", CHAIN).stdout


def _ping_s(url: str) -> float:
    started = time.monotonic()
    redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    return time.monotonic() - started


def test_a_partition_is_silent_and_touches_only_its_path(plane: FaultPlane) -> None:
    services = plane.services
    with psycopg.connect(plane.database_url, tcp_user_timeout=1500, connect_timeout=2) as through:
        through.execute("SELECT 1")
        with plane["postgres"].partitioned():
            assert f"{plane['postgres'].port}" in _rules()
            started = time.monotonic()
            with pytest.raises(psycopg.OperationalError, match="timed out"):
                through.execute("SELECT 1")
            waited = time.monotonic() - started
            assert waited >= 1.4, f"no reset may come: the client waits for its own timeout ({waited:.2f}s)"
            with psycopg.connect(services.database_url, connect_timeout=2) as direct:
                assert direct.execute("SELECT 1").fetchone() == (1,)
            assert _ping_s(plane.redis_url) < 1.0, "the other path is untouched"
    assert f"{plane['postgres'].port}" not in _rules(), "the heal removed the rules"
    with psycopg.connect(plane.database_url, connect_timeout=2) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)


def test_latency_is_added_per_direction_and_healed(plane: FaultPlane) -> None:
    baseline = _ping_s(plane.redis_url)
    plane["redis"].latency(0.2)
    assert _ping_s(plane.redis_url) >= 0.2
    plane["redis"].latency(0.0, upstream_s=0.3)
    assert _ping_s(plane.redis_url) >= 0.3
    plane.heal()
    assert _ping_s(plane.redis_url) < baseline + 0.15


_OWNER_THAT_DIES = """
import sys, time
from tools.lattice.live.faults.netfilter import PortRules
PortRules(int(sys.argv[1])).drop()
print("ready", flush=True)
time.sleep(60)
"""


def test_rules_of_a_killed_run_are_reaped_by_the_next(plane: FaultPlane) -> None:
    port = plane["redis"].port
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER_THAT_DIES, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        tag = owner_tag(owner.pid)
        assert tag in _rules()
        mine = owner_tag()
        plane["postgres"].partition()
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    with fault_plane(plane.services):  # the next run that makes faults
        assert tag not in _rules(), "the dead owner's rules are gone"
        assert mine in _rules(), "a live owner's rules stay"
    plane.heal()


_REFUSAL = """
from tools.lattice.live.faults.netfilter import check_privilege
try:
    check_privilege()
except Exception as exc:
    print(type(exc).__name__, "|", exc)
"""


@pytest.mark.skipif(
    shutil.which("iptables") is None, reason="iptables is not installed (apt-get install iptables)"
)
def test_without_privilege_the_plane_refuses_in_one_line() -> None:
    # Root without CAP_NET_ADMIN (dropped from the bounding set): iptables refuses, as for a user.
    dropped = "-net_admin,-net_raw"
    without = subprocess.run(
        ["setpriv", f"--bounding-set={dropped}", f"--inh-caps={dropped}", sys.executable, "-c", _REFUSAL],
        capture_output=True,
        text=True,
        check=False,
    )
    assert without.returncode == 0, without.stderr
    lines = without.stdout.strip().splitlines()
    assert len(lines) == 1, without.stdout
    kind, message = lines[0].split(" | ", 1)
    assert kind == "FaultsUnavailable"
    assert message.startswith("lattice: network faults need root or CAP_NET_ADMIN for iptables (")
