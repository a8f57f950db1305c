"""Service-set timings: `python -m tests.perf.bench_services [runs]`.

Embedded: cold = empty state dir (binaries copy when root, initdb into the template cache); warm =
cached template. Targets for PostgreSQL + Redis together: cold <= 1.5 s, warm <= 0.3 s.
Containers (when an engine answers and has the images, e.g. after `nox -s containers -- setup`):
cold = the first set of this process (Docker SDK import and client included), warm = the next ones.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tools.lattice.config import LatticeSettings, fast_temp_root
from tools.lattice.services import embedded as emb
from tools.lattice.services import pg_server, process, redis_server, start_services
from tools.lattice.services.base import ServiceUnavailable, announce_nothing, free_port
from tools.lattice.services.engine import engine_missing
from tools.lattice.services.state import StateDir, open_state_dir

TARGETS = {"together cold start": 1.5, "together warm start": 0.3}


@contextmanager
def _state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="retrace-lattice-bench-", dir=fast_temp_root()))
    path.chmod(0o755)  # the unprivileged PostgreSQL account reads the binaries copy in it
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _settings(state_dir: Path) -> LatticeSettings:
    return LatticeSettings(state_dir=state_dir, provider="embedded", database_url=None, redis_url=None)


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


Launch = Callable[[Path, int, IO[bytes]], subprocess.Popen[bytes]]


def _server_once(name: str, launch: Launch, answers: Callable[[int], bool]) -> tuple[float, float]:
    """Time one server's start (whatever `launch(private_dir, port, log)` prepares, until it answers)
    and its stop, in a private dir removed afterwards."""
    private = emb._make_private_dir("bench")
    log_path = private / f"{name}.log"
    log = log_path.open("ab")
    try:
        started = time.perf_counter()
        port = free_port()
        server = emb._Server(name, launch(private, port, log), port, log_path, answers)
        emb._wait_ready([server], 30)
        start = time.perf_counter() - started
        stop, _ = _timed(lambda: emb._halt([server]))
        return start, stop
    finally:
        log.close()
        shutil.rmtree(private, ignore_errors=True)


def _postgres_once(state: StateDir) -> tuple[float, float]:
    """PostgreSQL alone; cold or warm is what `state` holds (an empty state dir or a cached template)."""
    run_as = process.unprivileged_account()

    def launch(private: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
        install = pg_server.locate_install(state, run_as)
        template = pg_server.ensure_template(install, state, run_as)
        data = pg_server.prepare_data_dir(template, private, run_as)
        return pg_server.start(install, data, port, run_as, process.die_with_parent(), log)

    return _server_once("postgres", launch, pg_server.answers)


def _redis_once() -> tuple[float, float]:
    def launch(private: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return redis_server.start(
            redis_server.executable(), private / "redis", port, process.die_with_parent(), log
        )

    return _server_once("redis", launch, redis_server.answers)


def _together_once(state_dir: Path) -> tuple[float, float]:
    start, service_set = _timed(
        lambda: start_services(settings=_settings(state_dir), announce=announce_nothing)
    )
    stop, _ = _timed(service_set.stop)  # type: ignore[attr-defined]
    return start, stop


def _containers_once(state_dir: Path) -> tuple[float, float]:
    settings = LatticeSettings(state_dir=state_dir, provider="containers", database_url=None, redis_url=None)
    start, service_set = _timed(lambda: start_services(settings=settings, announce=announce_nothing))
    stop, _ = _timed(service_set.stop)  # type: ignore[attr-defined]
    return start, stop


def _containers(runs: int, add: Callable[[str, float], None]) -> str | None:
    """Container sets beside the embedded ones; returns why they were not measured, or None."""
    reason = engine_missing(LatticeSettings(), budget=2.0)
    if reason is not None:
        return f"no Docker engine ({reason})"
    with _state_dir() as state_dir:
        try:
            start, stop = _containers_once(state_dir)
        except ServiceUnavailable as exc:
            return str(exc)
        add("containers cold start", start)
        for _ in range(runs):
            start, stop = _containers_once(state_dir)
            add("containers warm start", start)
            add("containers stop", stop)
    return None


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 5
    samples: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        samples.setdefault(name, []).append(value)

    # Warm the import and version caches so the first sample measures servers, not Python.
    with _state_dir() as warmup:
        _together_once(warmup)
    for _ in range(runs):
        with _state_dir() as cold:
            start, stop = _postgres_once(open_state_dir(cold))
            add("postgres cold start", start)
            start, stop = _postgres_once(open_state_dir(cold))
            add("postgres warm start", start)
            add("postgres stop", stop)
        start, stop = _redis_once()
        add("redis start", start)
        add("redis stop", stop)
        with _state_dir() as cold:
            start, stop = _together_once(cold)
            add("together cold start", start)
            start, stop = _together_once(cold)
            add("together warm start", start)
            add("together stop", stop)

    skipped = _containers(runs, add)
    print(f"service sets, medians of {runs} runs (containers cold: once)")
    worst = 0
    for name, values in samples.items():
        median = statistics.median(values)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = median <= target
            worst = worst or (0 if ok else 1)
            verdict = f"  (target <= {target:.2f} s: {'ok' if ok else 'MISSED'})"
        print(f"  {name:<22} {median * 1000:8.1f} ms{verdict}")
    if skipped:
        print(f"  containers: not measured: {skipped}")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
