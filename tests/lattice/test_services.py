"""Service sets start real servers, answer real queries, and leave nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import redis

from tools.lattice.config import LatticeSettings
from tools.lattice.services import ServiceSet, ServiceUnavailable, start_services
from tools.lattice.services import process as proc
from tools.lattice.services.base import port_is_open
from tools.lattice.services.containers import engine_missing
from tools.lattice.services.registry import RunRecord, list_runs, read_run
from tools.lattice.services.state import open_state_dir

from .conftest import REPO

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _use(service_set: ServiceSet) -> None:
    with psycopg.connect(service_set.database_url, autocommit=True) as conn:
        row = conn.execute("select version()").fetchone()
    assert row is not None
    assert "PostgreSQL" in row[0]
    client = redis.Redis.from_url(service_set.redis_url)
    key = f"lattice-test-{service_set.id}-{os.getpid()}"
    try:
        client.set(key, b"value", ex=60)
        assert client.get(key) == b"value"
        client.delete(key)
    finally:
        client.close()


def _assert_gone(record: RunRecord, state_dir: Path) -> None:
    for server in record.servers:
        assert not proc.is_alive(server.pid, server.started), f"{server.name} pid {server.pid} still runs"
        assert not port_is_open(server.port), f"{server.name} port {server.port} still open"
    assert not Path(record.private_dir).exists()
    assert read_run(open_state_dir(state_dir), record.id) is None


def _wait_for(predicate: object, timeout: float = 10.0) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- embedded -------------------------------------------------------------------------------


def test_embedded_set_serves_sql_and_redis_then_leaves_nothing(settings: LatticeSettings) -> None:
    lines: list[str] = []
    service_set = start_services("embedded", settings=settings, announce=lines.append)
    record = read_run(open_state_dir(settings.state_dir), service_set.id)
    assert record is not None
    assert service_set.provider == "embedded"
    assert service_set.database_url.startswith("postgresql://postgres@127.0.0.1:")
    assert service_set.redis_url.startswith("redis://127.0.0.1:")
    assert {s.name for s in record.servers} == {"postgres", "redis"}
    assert record.owner_pid == os.getpid()
    with service_set:
        _use(service_set)
    _assert_gone(record, settings.state_dir)
    service_set.stop()  # idempotent


def test_embedded_servers_run_unprivileged_when_root(settings: LatticeSettings) -> None:
    with start_services("embedded", settings=settings, announce=lambda _: None) as service_set:
        record = read_run(open_state_dir(settings.state_dir), service_set.id)
        assert record is not None
        postgres = next(s for s in record.servers if s.name == "postgres")
        uid = int(Path(f"/proc/{postgres.pid}/status").read_text().split("Uid:")[1].split()[0])
        assert uid == (65534 if os.geteuid() == 0 else os.geteuid())
        assert "127.0.0.1" in service_set.database_url


def test_two_embedded_sets_are_independent(settings: LatticeSettings) -> None:
    with (
        start_services("embedded", settings=settings, announce=lambda _: None) as first,
        start_services("embedded", settings=settings, announce=lambda _: None) as second,
    ):
        assert first.database_url != second.database_url
        assert first.redis_url != second.redis_url
        _use(first)
        _use(second)


# --- external -------------------------------------------------------------------------------


def _local_servers_or_skip() -> None:
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not _answers("127.0.0.1", port):
            pytest.skip(f"no local {name} on 127.0.0.1:{port} for the external provider")


def test_external_uses_given_servers_and_stops_nothing(settings: LatticeSettings) -> None:
    _local_servers_or_skip()
    external = settings.model_copy(update={"database_url": LOCAL_PG, "redis_url": LOCAL_REDIS})
    before = list_runs(open_state_dir(settings.state_dir))
    service_set = start_services(settings=external, announce=lambda _: None)
    assert service_set.provider == "external"
    assert service_set.database_url == LOCAL_PG
    _use(service_set)
    service_set.stop()
    assert _answers("127.0.0.1", 5432)
    assert _answers("127.0.0.1", 6379)
    assert [r.id for r in list_runs(open_state_dir(settings.state_dir))] == [r.id for r in before]


def test_external_strips_a_driver_suffix(settings: LatticeSettings) -> None:
    _local_servers_or_skip()
    external = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
            "redis_url": LOCAL_REDIS,
        }
    )
    assert start_services(settings=external).database_url == LOCAL_PG


def test_forced_external_without_urls_names_what_is_missing(settings: LatticeSettings) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        start_services("external", settings=settings)
    message = str(caught.value)
    assert "\n" not in message
    assert "LATTICE_DATABASE_URL" in message
    assert "LATTICE_REDIS_URL" in message


def test_half_configured_external_is_refused(settings: LatticeSettings) -> None:
    with pytest.raises(ServiceUnavailable, match="LATTICE_REDIS_URL"):
        start_services(settings=settings.model_copy(update={"database_url": LOCAL_PG}))


def test_external_that_does_not_answer_says_where(settings: LatticeSettings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    broken = settings.model_copy(
        update={
            "database_url": f"postgresql://postgres:secret@127.0.0.1:{dead_port}/postgres",
            "redis_url": LOCAL_REDIS,
        }
    )
    with pytest.raises(ServiceUnavailable) as caught:
        start_services(settings=broken)
    message = str(caught.value)
    assert f"127.0.0.1:{dead_port}" in message
    assert "secret" not in message
    assert "\n" not in message


# --- containers -----------------------------------------------------------------------------


def test_no_docker_is_decided_fast_and_says_why(settings: LatticeSettings) -> None:
    started = time.perf_counter()
    reason = engine_missing(settings)
    elapsed = time.perf_counter() - started
    if reason is None:
        pytest.skip("a Docker engine answers on this machine")
    assert elapsed < 0.5
    assert "docker" in reason.lower()


def test_unreachable_docker_host_is_decided_fast(
    settings: LatticeSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker  # imported up front: the budget is for the engine's answer, not the import

    del docker
    host = f"unix://{tmp_path}/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    started = time.perf_counter()
    reason = engine_missing(settings.model_copy(update={"docker_host": host}))
    assert time.perf_counter() - started < 0.5
    assert reason is not None
    assert "FileNotFoundError" in reason or "No such file" in reason


def test_auto_selection_announces_the_skipped_containers_tier(settings: LatticeSettings) -> None:
    if engine_missing(settings) is None:
        pytest.skip("a Docker engine answers on this machine")
    lines: list[str] = []
    with start_services(settings=settings, announce=lines.append) as service_set:
        assert service_set.provider == "embedded"
    skipped = [line for line in lines if "containers tier skipped" in line]
    assert len(skipped) == 1
    assert "no Docker engine (" in skipped[0]


def test_forced_containers_without_docker_is_one_clear_line(settings: LatticeSettings) -> None:
    if engine_missing(settings) is None:
        pytest.skip("a Docker engine answers on this machine")
    started = time.perf_counter()
    with pytest.raises(ServiceUnavailable) as caught:
        start_services("containers", settings=settings)
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert "\n" not in message
    assert "Docker engine" in message


def test_unknown_provider_is_refused(settings: LatticeSettings) -> None:
    with pytest.raises(ServiceUnavailable, match="unknown provider 'bogus'"):
        start_services("bogus", settings=settings)


# --- crashes, detached sets, reaping (through the CLI, as a user would) ----------------------


def _run_cli(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _urls(stdout: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def _record_for(state_dir: Path, database_url: str) -> RunRecord:
    port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    matches = [r for r in list_runs(open_state_dir(state_dir)) if any(s.port == port for s in r.servers)]
    assert len(matches) == 1
    return matches[0]


def test_killed_foreground_owner_takes_its_servers_along_and_reap_cleans_up(
    state_dir: Path, cli_env: dict[str, str], lattice_cmd: list[str]
) -> None:
    owner = subprocess.Popen(
        [*lattice_cmd, "services", "up", "--provider", "embedded"],
        cwd=REPO,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert owner.stdout is not None
        first = owner.stdout.readline()
        second = owner.stdout.readline()
        urls = _urls(first + second)
        assert set(urls) == {"LATTICE_DATABASE_URL", "LATTICE_REDIS_URL"}
        record = _record_for(state_dir, urls["LATTICE_DATABASE_URL"])
        assert record.live_servers()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    # PR_SET_PDEATHSIG: the servers die with the process that started them.
    assert _wait_for(lambda: not record.live_servers()), "servers outlived their owner"
    # What a SIGKILLed owner cannot clean (its private dir, run record) is the reaper's.
    assert Path(record.private_dir).exists()
    reaped = _run_cli(lattice_cmd, cli_env, "services", "reap")
    assert reaped.returncode == 0, reaped.stderr
    assert f"reaped {record.id}" in reaped.stdout
    _assert_gone(record, state_dir)


def test_detached_set_outlives_its_command_until_down(
    state_dir: Path, cli_env: dict[str, str], lattice_cmd: list[str]
) -> None:
    up = _run_cli(lattice_cmd, cli_env, "services", "up", "--provider", "embedded", "--detach", "--shell")
    assert up.returncode == 0, up.stderr
    assert all(line.startswith("export LATTICE_") for line in up.stdout.splitlines())
    urls = _urls(up.stdout)
    record = _record_for(state_dir, urls["LATTICE_DATABASE_URL"])
    try:
        assert record.detached
        assert not record.owner_alive()
        service_set = ServiceSet("probe", "embedded", urls["LATTICE_DATABASE_URL"], urls["LATTICE_REDIS_URL"])
        _use(service_set)
        # Its owner is gone but it is meant to run: the reaper leaves it alone.
        reaped = _run_cli(lattice_cmd, cli_env, "services", "reap")
        assert record.id not in reaped.stdout
        status = _run_cli(lattice_cmd, cli_env, "services", "status")
        assert record.id in status.stdout
        down = _run_cli(lattice_cmd, cli_env, "services", "down", record.id)
        assert down.returncode == 0, down.stderr
        assert f"stopped {record.id}" in down.stdout
    finally:
        _run_cli(lattice_cmd, cli_env, "services", "down", record.id)
    _assert_gone(record, state_dir)


def test_detached_set_whose_servers_died_is_reaped(
    state_dir: Path, cli_env: dict[str, str], lattice_cmd: list[str]
) -> None:
    up = _run_cli(lattice_cmd, cli_env, "services", "up", "--provider", "embedded", "--detach")
    assert up.returncode == 0, up.stderr
    record = _record_for(state_dir, _urls(up.stdout)["LATTICE_DATABASE_URL"])
    for server in record.servers:
        proc.signal_if_alive(server.pid, server.started, signal.SIGKILL)
    assert _wait_for(lambda: not record.live_servers())
    reaped = _run_cli(lattice_cmd, cli_env, "services", "reap")
    assert f"reaped {record.id}" in reaped.stdout
    _assert_gone(record, state_dir)


def test_foreground_up_stops_everything_on_sigterm(
    state_dir: Path, cli_env: dict[str, str], lattice_cmd: list[str]
) -> None:
    owner = subprocess.Popen(
        [*lattice_cmd, "services", "up", "--provider", "embedded"],
        cwd=REPO,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    urls = _urls(owner.stdout.readline() + owner.stdout.readline())
    record = _record_for(state_dir, urls["LATTICE_DATABASE_URL"])
    owner.send_signal(signal.SIGTERM)
    _, err = owner.communicate(timeout=30)
    assert owner.returncode == 0, err
    _assert_gone(record, state_dir)


# --- CLI mistakes: one line, exit 2, no traceback ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "env_extra", "expected"),
    [
        (["services", "up", "--provider", "bogus"], {}, "invalid choice: 'bogus'"),
        (["services", "up"], {"LATTICE_PROVIDER": "external"}, "LATTICE_DATABASE_URL"),
        (["services", "up"], {"LATTICE_PROVIDER": "bogus"}, "LATTICE_PROVIDER"),
        (["services", "up", "--provider", "containers"], {}, "Docker engine"),
        (["services", "down"], {}, "a set id or --all"),
        (["services", "down", "emb-nosuch"], {}, "no service set 'emb-nosuch'"),
        (["services"], {}, "required"),
    ],
)
def test_cli_mistakes_are_one_line(
    args: list[str],
    env_extra: dict[str, str],
    expected: str,
    cli_env: dict[str, str],
    lattice_cmd: list[str],
    settings: LatticeSettings,
) -> None:
    if "containers" in args and engine_missing(settings) is None:
        pytest.skip("a Docker engine answers on this machine")
    result = _run_cli(lattice_cmd, cli_env | env_extra, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
