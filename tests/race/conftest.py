"""The race suite's options, fixtures and end summary (the plumbing is in tools/lattice/engines/race/).

Options (all after `nox -s race --`):
- `--race-examples N` (default 8): Hypothesis examples of the concurrent state machine;
- `--race-batches N` (default 5): batches per example;
- `--race-shrink-seconds S` (default 60): how long a failure may shrink;
- `--race-clients N` (default 200) and `--race-rounds N` (default 3): the burst;
- `--race-stalled N` (default 24, more than the API's pool of 10 + 10): stalled uploads held at once;
- `--race-parsed-examples N` (default 5): odd values per input of an operation (parsed_inputs sweep).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.flows import unique_email
from tools.lattice.engines.race import figures
from tools.lattice.engines.race.options import RaceOptions
from tools.lattice.live.fixtures import live_stack
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.hooks import current_run
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser, sign_in

__all__ = ["live_stack"]

_TOTAL = pytest.StashKey[figures.RaceFigures]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("race", "the race suite")
    group.addoption("--race-examples", type=int, default=8, help="state machine examples (default 8)")
    group.addoption("--race-batches", type=int, default=5, help="batches per example (default 5)")
    group.addoption("--race-shrink-seconds", type=float, default=60.0, help="shrinking budget (default 60)")
    group.addoption("--race-clients", type=int, default=200, help="burst clients (default 200)")
    group.addoption("--race-rounds", type=int, default=3, help="burst rounds (default 3)")
    group.addoption("--race-stalled", type=int, default=24, help="stalled uploads at once (default 24)")
    group.addoption("--race-parsed-examples", type=int, default=5, help="odd values per input (default 5)")


@pytest.fixture(scope="session")
def race_options(request: pytest.FixtureRequest) -> RaceOptions:
    """The suite's sizes, from the command line."""
    option = request.config.getoption
    return RaceOptions(
        examples=option("--race-examples"),
        batches=option("--race-batches"),
        shrink_seconds=option("--race-shrink-seconds"),
        clients=option("--race-clients"),
        rounds=option("--race-rounds"),
        stalled=option("--race-stalled"),
        parsed_examples=option("--race-parsed-examples"),
    )


@pytest.fixture
def live(live_stack: LiveStack, lattice: WorkerLattice) -> Iterator[httpx.Client]:
    """An httpx client on the live stack's port; the worker's planes are reset before and after."""
    lattice.reset()
    with live_stack.client() as client:
        yield client
    lattice.reset()


@pytest.fixture
def person(live: httpx.Client, lattice: WorkerLattice) -> SignedInUser:
    """A new user signed in over the live port (session token and API token)."""
    return sign_in(live, lattice.mailbox, unique_email("race"), with_api_token=True)


# ---- the figures, gathered from every xdist worker


def _total(config: pytest.Config) -> figures.RaceFigures:
    return config.stash.setdefault(_TOTAL, figures.RaceFigures())


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[figures.WORKEROUTPUT_KEY] = figures.FIGURES.as_json()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = getattr(node, "workeroutput", {}).get(figures.WORKEROUTPUT_KEY)
    if counts:
        _total(node.config).merge(counts)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    total = _total(config)
    total.merge(figures.FIGURES.as_json())  # without xdist the figures are this process's
    if not (total.batches or total.probes or total.classes):
        return
    logs = Path(config.getoption("--lattice-logs"))
    pretty = logs / "race-figures.json"
    figures.write(pretty, total)
    run = current_run()
    if run is not None and run.telemetry is not None:
        figures.append_to_telemetry(run.telemetry.path, run.run_id, total)
    terminalreporter.section("race")
    for line in figures.summary_lines(total):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"figures: {pretty} (and the last line of logs/race.json)")
