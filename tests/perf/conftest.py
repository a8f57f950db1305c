"""The perf suite's fixtures and its ending: history, baseline verdict, plot and one summary table.

Run as `pytest tests/perf -o python_files='perf_*.py' -p no:randomly -n 0 --lattice-suite=perf` (what
`nox -s perf` does); every run's record goes to logs/; `--record` also appends it to the tracked
perf/history.jsonl and `--accept` takes it as the new tracked baseline (nothing else touches the tree).
The benchmark files are named `perf_*.py` so that a plain `pytest tests` never collects them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.models import Ingestion, Mark
from app.settings import Settings
from tools.lattice.engines.perf import budgets
from tools.lattice.engines.perf.report import summary_table
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in

# The queue benchmarks use the service's own defaults: 4 worker threads, 64 messages prefetched.
WORKER_THREADS = 4
WORKER_PREFETCH = 64
UPLOAD_LIMIT = 2 * 1024 * 1024  # >= 1 MiB: the largest perf upload

Figures = dict[str, dict[str, Any]]
_FIGURES = pytest.StashKey[Figures]()
_VERDICT = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perf", "Retrace perf sentinels")
    group.addoption("--accept", action="store_true", dest="perf_accept", help="take this run as baseline")
    group.addoption(
        "--record",
        action="store_true",
        dest="perf_record",
        help="also append this run to the tracked perf/history.jsonl (logs/perf-history.jsonl always)",
    )
    group.addoption(
        "--profile",
        action="store_true",
        dest="perf_profile",
        help="also break GET, token-auth and list down into spans and pg_stat_statements (perf_profile.py)",
    )
    group.addoption(
        "--perf-scale", type=float, default=1.0, help="multiply the number of calls per client (default 1)"
    )


def pytest_configure(config: pytest.Config) -> None:
    empty: Figures = {"wrk": {}, "latency": {}, "throughput": {}, "lattice": {}, "profile": {}}
    config.stash[_FIGURES] = empty
    config.stash[_VERDICT] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The verdict reads every other benchmark's figures, so it runs last whatever the order plugin; the
    profile runs only when asked for (`--profile`), after the benchmarks it explains."""
    if not config.getoption("perf_profile"):
        profile = [item for item in items if item.path.name == "perf_profile.py"]
        if profile:
            config.hook.pytest_deselected(items=profile)
            items[:] = [item for item in items if item.path.name != "perf_profile.py"]
    order = {"perf_profile.py": 1, "perf_verdict.py": 2}
    items.sort(key=lambda item: order.get(item.path.name, 0))


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    """Where each benchmark puts its figures (latency per operation, throughput, lattice costs)."""
    return request.config.stash[_FIGURES]


@pytest.fixture(scope="session")
def verdict_lines(request: pytest.FixtureRequest) -> list[str]:
    return request.config.stash[_VERDICT]


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> float:
    value: float = request.config.getoption("--perf-scale")
    return value


@pytest.fixture(scope="session")
def perf_settings(lattice: WorkerLattice) -> Settings:
    """This worker's schema, namespace, queue and dirs, with the service's own worker defaults."""
    settings: Settings = lattice.plane.settings(
        max_upload_bytes=UPLOAD_LIMIT, worker_threads=WORKER_THREADS, worker_prefetch=WORKER_PREFETCH
    )
    return settings


@pytest.fixture(scope="session")
def stack(perf_settings: Settings) -> Iterator[LiveStack]:
    """uvicorn on a real port (no worker: the queue benchmark starts one when it needs it)."""
    with start_live_stack(perf_settings, Path("logs/perf"), with_worker=False) as live:
        yield live


@pytest.fixture(scope="session")
def mailbox_live(perf_settings: Settings) -> Mailbox:
    return Mailbox(Path(perf_settings.mailer.removeprefix("maildir:")))


@pytest.fixture(scope="session")
def perf_user(stack: LiveStack, mailbox_live: Mailbox) -> SignedInUser:
    """One account signed in over the real port, with an API token."""
    with stack.client() as client:
        return sign_in(
            client, mailbox_live, f"perf-{uuid.uuid4().hex[:12]}@example.test", with_api_token=True
        )


def seed_marks(engine: Engine, user_id: uuid.UUID, count: int, *, label: str = "seed") -> list[uuid.UUID]:
    """Insert `count` marks with pending ingestions straight into the table (setup, not measured)."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(count)]
    with Session(engine) as session:
        for n, mark_id in enumerate(ids):
            session.add(
                Mark(
                    id=mark_id,
                    user_id=user_id,
                    url=f"HTTPS://Example.test:443/{label}/{n}?utm_source=perf&keep=1#frag",
                    title=None,
                    note=f"{label} mark number {n} with a few words to count",
                    tags=["perf", label],
                    created_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        for mark_id in ids:
            session.add(Ingestion(mark_id=mark_id))
        session.commit()
    # As autovacuum would within its minute: on the statistics of the tables before the seeding (a user
    # with 4 marks), the planner sorted all of a user's 2,000 marks for every page of the list (11 ms in
    # PostgreSQL, against 0.1 ms on an index scan): the "missing time" of the list in earlier runs.
    with engine.begin() as connection:
        connection.execute(text("ANALYZE marks, ingestions, attachments"))
    return ids


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _FIGURES not in config.stash:
        return
    figures = config.stash[_FIGURES]
    if not any(figures.values()):
        return
    terminalreporter.section("perf")
    for line in summary_table(figures):
        terminalreporter.write_line(line)
    for line in config.stash[_VERDICT]:
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"budgets: p95 gate {budgets.P95_GATE_MS:.0f} ms at bare p95 {budgets.REFERENCE_BARE_P95_MS:.0f} ms, "
        f"scaled up with the bare anchor (fails the run); aim {budgets.P95_AIM_MS:.0f} ms; "
        f"ingestion aim {budgets.INGEST_AIM_JOBS_S:.0f} jobs/s on a quiet machine"
    )
