"""Contract suite settings: the Hypothesis profile (example database per xdist worker under the run's
dir, moderate example counts), a printed seed for reruns, and the per-worker case counter.

- `--contract-examples N` sets max_examples (default 25) when the suite is run as `pytest tests/contract`.
- The seed is printed in the header and in every failure; `--hypothesis-seed=<seed>` replays a run.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, core, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from tests.contract.world import World
from tools.lattice.chain.document import committed_document
from tools.lattice.engines.contract import COUNTER
from tools.lattice.plugin.hooks import current_run, current_worker_names, logs_dir
from tools.lattice.seam.accounts import Mailbox

DEFAULT_EXAMPLES = 25

CASES_FILE = "contract-cases.jsonl"  # read by `tools.lattice peer`
STARTED: float | None = None  # when the controller configured the run


class WorkerExampleDatabase(ExampleDatabase):
    """Hypothesis' example database in `<run dir>/w<N>/hypothesis`, opened on first use (the run id is
    only known once the lattice plugin has configured the run)."""

    def __init__(self) -> None:
        super().__init__()
        self._inner: DirectoryBasedExampleDatabase | None = None

    def _db(self) -> DirectoryBasedExampleDatabase:
        if self._inner is None:
            path = current_worker_names().directory / "hypothesis"
            self._inner = DirectoryBasedExampleDatabase(path)
        return self._inner

    def save(self, key: bytes, value: bytes) -> None:
        self._db().save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return self._db().fetch(key)

    def delete(self, key: bytes, value: bytes) -> None:
        self._db().delete(key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self._db().move(src, dest, value)


def _profile(max_examples: int) -> str:
    name = f"contract-{max_examples}"
    settings.register_profile(
        name,
        max_examples=max_examples,
        deadline=None,  # two shared cores: time is not a property of the contract
        database=WorkerExampleDatabase(),
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the per-test reset runs after all examples
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.differing_executors,
        ],
    )
    return name


# Loaded at import, before the test modules are decorated; an explicit --hypothesis-profile wins.
# Hypothesis itself switches to its built-in "ci" profile when $CI is set (GitHub Actions, most
# runners); that profile keeps the function-scoped-fixture health check, so it must give way too.
BUILTIN_PROFILES = ("default", "ci")
if settings.get_current_profile_name() in BUILTIN_PROFILES:
    settings.load_profile(_profile(DEFAULT_EXAMPLES))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--contract-examples",
        type=int,
        default=None,
        help=f"Hypothesis examples per contract case (default {DEFAULT_EXAMPLES})",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    examples = config.getoption("--contract-examples", default=None)
    if examples:
        settings.load_profile(_profile(int(examples)))
    # One seed for the run, printed for reruns: the controller picks it, xdist workers get it below.
    workerinput = getattr(config, "workerinput", {})
    if "contract_seed" in workerinput:
        config.option.hypothesis_seed = workerinput["contract_seed"]
    elif config.getoption("hypothesis_seed", default=None) is None:
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(2**32))
    seed = str(config.option.hypothesis_seed)
    core.global_force_seed = int(seed) if seed.isdigit() else seed  # type: ignore[assignment]
    if not workerinput and not config.option.collectonly:
        global STARTED
        STARTED = time.perf_counter()
        # The controller starts the case file afresh: it holds this run's lines only (one per worker).
        (logs_dir(config) / CASES_FILE).unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The run's cases (every xdist worker's), failures and cases/s since the controller configured."""
    run = current_run()
    if hasattr(config, "workerinput") or run is None or STARTED is None:
        return
    path = logs_dir(config) / CASES_FILE
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    mine = [line for line in lines if line["run"] == run.run_id]
    if not mine:
        return
    cases, failing = sum(line["cases"] for line in mine), sum(line["failures"] for line in mine)
    wall = time.perf_counter() - STARTED
    terminalreporter.write_line(
        f"contract: {cases} cases ({failing} failing) from {len(mine)} worker(s) in {wall:.1f}s = "
        f"{cases / wall:.0f} cases/s; seed {config.option.hypothesis_seed}"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["contract_seed"] = str(node.config.option.hypothesis_seed)


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", default=None)
    return f"contract: hypothesis seed {seed} (rerun with --hypothesis-seed={seed}), profile " + (
        settings.get_current_profile_name()
    )


@pytest.fixture(scope="session", autouse=True)
def _case_counter(request: pytest.FixtureRequest) -> Iterator[None]:
    """Write this worker's case count to logs/contract-cases.jsonl (read by `tools.lattice peer`)."""
    started = time.perf_counter()
    yield
    if COUNTER.cases == 0:
        return
    run = current_run()
    logs = logs_dir(request.config)
    logs.mkdir(parents=True, exist_ok=True)
    line = {
        "run": run.run_id if run else None,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "cases": COUNTER.cases,
        "failures": COUNTER.failures,
        "case_seconds": round(COUNTER.seconds, 3),
        "session_seconds": round(time.perf_counter() - started, 3),
        "seed": request.config.getoption("hypothesis_seed", default=None),
        "at": time.time(),
    }
    with (logs / CASES_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@pytest.fixture
def world(api: httpx.Client, mailbox: Mailbox) -> World:
    """What a case needs before it is sent: objects for its path, stored bytes, a second page."""
    return World(api, mailbox)


@pytest.fixture(scope="session")
def sdk_path() -> Path:
    """The generated client as installed: the workspace member `retrace-client` (sdk/retrace-client), found
    through its distribution's metadata, not put on sys.path by hand."""
    try:
        installed = importlib.metadata.distribution("retrace-client")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("retrace-client is not installed: install the workspace (`uv sync --extra test`)")
    found = importlib.util.find_spec("retrace_client")
    assert found is not None, "retrace_client does not import"
    assert found.origin is not None, "retrace_client has no files"
    assert installed.version == committed_document()["info"]["version"], "the installed client is stale"
    return Path(found.origin).parent.parent  # the directory holding the package
