"""The lattice as a pytest plugin, registered through the `pytest11` entry point `lattice`.

It acts only where a target is configured: `lattice_target = "module:NAME"` (ini option, or
`--lattice-target`), else `[tool.lattice] target` in the pyproject.toml pytest reads its settings from.
Elsewhere (another project's suite in the same environment) it adds its options and does nothing.

The controller (the xdist controller, or the only process without xdist) starts one service set per
run, checks the guards, reaps what killed runs left, and sweeps the run's own leftovers at the end.
Each worker builds its plane on first use, and the fixtures below hand it to tests.

Options (ini, each overridable on the command line as `--lattice-<name>`): `lattice_target`,
`lattice_suite` (telemetry's suite name, default `integration`), `lattice_logs` (default `logs`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from tools.lattice.planes.isolation import Plane, reap_dead_runs, record_run, sweep_run
from tools.lattice.planes.naming import WorkerNames, new_run_id, worker_index
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin.guards import GuardFailed, check_database
from tools.lattice.plugin.sharding import shard_of
from tools.lattice.plugin.telemetry import Telemetry, current_commit
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser
from tools.lattice.seam.targeting import TargetError, choose_target, reference_in
from tools.lattice.services import interrupts

_RUN = pytest.StashKey["RunContext"]()
# Reports reach the controller without their config, so the run is also kept here (one per process).
_THIS_RUN: dict[str, RunContext] = {}


@dataclass
class RunContext:
    run_id: str
    database_url: str
    redis_url: str
    provider: str
    worker_id: str
    is_controller: bool
    stop: Any = None  # the ServiceSet's stop(), controller only
    telemetry: Telemetry | None = None
    phases: dict[str, tuple[str, float]] = field(default_factory=dict)
    worker_figures: dict[str, dict[str, float]] = field(default_factory=dict)
    lattice: WorkerLattice | None = None

    def as_workerinput(self) -> dict[str, str]:
        return {
            "run_id": self.run_id,
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "provider": self.provider,
        }


def current_run() -> RunContext | None:
    """The lattice run this process belongs to (None outside one, e.g. under --collect-only)."""
    return _THIS_RUN.get("run")


def current_worker_names() -> WorkerNames:
    """What this process's xdist worker owns (its schema, namespace, dirs); the controller is worker 0."""
    run = _THIS_RUN["run"]
    return WorkerNames(run.run_id, worker_index(run.worker_id if not run.is_controller else "main"))


def logs_dir(config: pytest.Config) -> Path:
    """Where this run writes its logs: --lattice-logs, else the ini option (readable in any plugin's
    pytest_configure, whichever runs first)."""
    return Path(str(config.option.lattice_logs or config.getini("lattice_logs") or "logs"))


# name -> (help, ini default); `--lattice-<name>` on the command line wins over the ini value.
OPTIONS = {
    "target": ('the application under test, "package.module:NAME" (a Target)', ""),
    "suite": ("suite name for telemetry", "integration"),
    "logs": ("directory for telemetry", "logs"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lattice", "the test lattice")
    for name, (help_text, default) in OPTIONS.items():
        group.addoption(
            f"--lattice-{name}",
            dest=f"lattice_{name}",
            default=None,
            help=f"{help_text} (ini lattice_{name})",
        )
        parser.addini(f"lattice_{name}", f"{help_text} (default: {default or 'none'})", default=default)


def _resolve_options(config: pytest.Config) -> None:
    """Fill each option left off the command line from the ini file, so code reads one place."""
    for name in OPTIONS:
        dest = f"lattice_{name}"
        if getattr(config.option, dest) is None:
            setattr(config.option, dest, config.getini(dest))


def _choose_target(config: pytest.Config) -> bool:
    """Choose the run's target; False when none is configured (the plugin then stays out of the way)."""
    value: object = config.option.lattice_target
    where = "--lattice-target / ini lattice_target"
    if not value and config.inipath is not None and config.inipath.name == "pyproject.toml":
        value, where = reference_in(config.inipath), f"[tool.lattice] target in {config.inipath}"
    if not value:
        return False
    try:
        choose_target(value, where)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    return True


@pytest.hookimpl(tryfirst=True)  # conftests' configure hooks read the resolved options
def pytest_configure(config: pytest.Config) -> None:
    _resolve_options(config)
    try:
        configured = _choose_target(config)
    except TargetError as exc:  # an unreadable pyproject
        raise pytest.UsageError(str(exc)) from None
    if not configured:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        shared = workerinput["lattice"]
        config.stash[_RUN] = RunContext(worker_id=workerinput["workerid"], is_controller=False, **shared)
    elif config.option.collectonly or config.option.help:
        return
    else:
        interrupts.install()  # Ctrl-C or SIGTERM: workers and their consumers stop before the servers
        config.stash[_RUN] = _start_run(config)
    _THIS_RUN["run"] = config.stash[_RUN]


def _start_run(config: pytest.Config) -> RunContext:
    from tools.lattice.config import LatticeConfigError, load_settings
    from tools.lattice.services import ServiceUnavailable, start_services

    try:
        services = start_services()
    except (ServiceUnavailable, LatticeConfigError) as exc:
        raise pytest.UsageError(str(exc)) from None
    run = RunContext(
        run_id=new_run_id(),
        database_url=services.database_url,
        redis_url=services.redis_url,
        provider=services.provider,
        worker_id="main",
        is_controller=True,
        stop=services.stop,
    )
    try:
        _guards(run)
        record_run(run.run_id)
        reaped = reap_dead_runs(run.run_id, run.database_url, run.redis_url)
    except BaseException:
        services.stop()
        raise
    if reaped:
        print(f"lattice: reaped leftovers of killed run(s): {', '.join(reaped)}")
    suite = config.getoption("--lattice-suite")
    shard = shard_of(config)
    run.telemetry = Telemetry(
        logs_dir(config) / f"{suite}.json",
        run.run_id,
        suite,
        run.provider,
        commit=current_commit(load_settings().commit),
        shard=f"{shard[0]}/{shard[1]}" if shard else "",
    )
    run.telemetry.open()
    _restart_junit_xml(config, run.run_id)
    return run


def _restart_junit_xml(config: pytest.Config, run_id: str) -> None:
    """Remove the last run's JUnit XML (pytest writes it only at the end, so an interrupted run kept
    the old one beside a new logs/<suite>.json) and stamp this run's id in the new one."""
    xml = getattr(config, "_xml", None)  # pytest's LogXML, when --junitxml is given
    if xml is None:
        return
    Path(xml.logfile).unlink(missing_ok=True)
    xml.add_global_property("lattice_run", run_id)


def _guards(run: RunContext) -> None:
    """Stop before any test, with one line, when the run cannot mean anything."""
    try:
        check_database(run.database_url, run.provider)
    except GuardFailed as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    if _RUN in node.config.stash:  # none without a target: such a suite runs under xdist untouched
        node.workerinput["lattice"] = node.config.stash[_RUN].as_workerinput()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    figures = getattr(node, "workeroutput", {}).get("lattice_figures")
    if figures and _RUN in node.config.stash:
        node.config.stash[_RUN].worker_figures[node.gateway.id] = figures


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    run = _THIS_RUN.get("run")
    if run is None or not run.is_controller or run.telemetry is None:
        return
    worker = getattr(report, "worker_id", None) or getattr(getattr(report, "node", None), "gateway", None)
    worker_name = worker if isinstance(worker, str) else getattr(worker, "id", "main")
    outcome, duration = run.phases.get(report.nodeid, ("passed", 0.0))
    if report.failed:
        outcome = "failed" if report.when == "call" else "error"
    elif report.skipped and outcome == "passed":
        outcome = "skipped"
    run.phases[report.nodeid] = (outcome, duration + report.duration)
    if report.when == "teardown":
        run.telemetry.add(worker_name, report.nodeid, outcome, duration + report.duration)
        del run.phases[report.nodeid]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _RUN not in config.stash:
        return
    run = config.stash[_RUN]
    if not run.is_controller or run.telemetry is None:
        return
    if run.lattice is not None:  # no xdist: this process was the only worker
        run.worker_figures["main"] = run.lattice.figures()
    for name, unit in (("bootstrap_total_s", "s"), ("bootstrap_schema_s", "s"), ("reset_median_ms", "ms")):
        values = [f[name] for f in run.worker_figures.values() if name in f]
        if values:
            median = statistics.median(values)
            shown = f"{median:.3f} s" if unit == "s" else f"{median:.2f} ms"
            run.telemetry.figures[name] = f"median {shown} over {len(values)} worker(s)"
    terminalreporter.section("lattice")
    for line in run.telemetry.summary_lines():
        terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    run = _THIS_RUN.get("run")
    # xdist sends workeroutput to the controller during sessionfinish, so the figures go in first.
    if run is not None and run.lattice is not None and not run.is_controller:
        session.config.workeroutput["lattice_figures"] = run.lattice.figures()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _RUN not in config.stash:
        return
    run = config.stash[_RUN]
    if run.lattice is not None:
        run.lattice.close()
    if run.is_controller:
        try:
            sweep_run(run.run_id, run.database_url, run.redis_url)
        finally:
            if run.stop is not None:
                run.stop()


# ---- fixtures: few, and named for what they give


@pytest.fixture(scope="session")
def lattice(request: pytest.FixtureRequest) -> WorkerLattice:
    """This xdist worker's planes, app and accounts, built on first use (once per worker)."""
    if _RUN not in request.config.stash:
        raise pytest.UsageError(
            'lattice: no target configured: set [tool.lattice] target = "package.module:NAME" in '
            "pyproject.toml (or the ini option lattice_target)"
        )
    run = request.config.stash[_RUN]
    if run.lattice is None:
        names = current_worker_names()
        run.lattice = WorkerLattice.bootstrap(Plane(names, run.database_url, run.redis_url))
    return run.lattice


@pytest.fixture(scope="session")
def settings(lattice: WorkerLattice) -> Any:
    """The service settings of this worker (its schema, namespace, queue suffix, dirs)."""
    return lattice.settings


@pytest.fixture
def _clean_after(lattice: WorkerLattice) -> Iterator[None]:
    yield
    lattice.reset()


@pytest.fixture
def api(lattice: WorkerLattice, _clean_after: None) -> httpx.Client:
    """An httpx client on the app in-process (ASGI), anonymous; pass `headers=user.headers` to sign."""
    return lattice.client


@pytest.fixture
def mailbox(lattice: WorkerLattice) -> Mailbox:
    """The Maildir this worker's service delivers to."""
    return lattice.mailbox


@pytest.fixture
def user(lattice: WorkerLattice, _clean_after: None) -> SignedInUser:
    """This worker's disposable user, signed in through the real OTP flow, with an API token."""
    return lattice.account("user")


@pytest.fixture
def other_user(lattice: WorkerLattice, _clean_after: None) -> SignedInUser:
    """A second signed-in user, for proving that nobody sees another's objects."""
    return lattice.account("other")


@pytest.fixture
def worker(lattice: WorkerLattice, _clean_after: None) -> Iterator[DrainableWorker]:
    """A real Dramatiq worker consuming this xdist worker's queue; `worker.join()` drains it."""
    lattice.worker.resume()
    try:
        yield lattice.worker
    finally:
        lattice.worker.join(fail_fast=False)
        lattice.worker.pause()


@pytest.fixture
def db(lattice: WorkerLattice, _clean_after: None) -> Iterator[Session]:
    """A session on this worker's schema, for checking what the service wrote."""
    with Session(lattice.engine, expire_on_commit=False) as session:
        yield session


__all__ = ["api", "db", "lattice", "mailbox", "other_user", "settings", "user", "worker"]
