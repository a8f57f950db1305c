"""Every entry point of the lattice. `nox -l` lists them; `nox` runs lint, integration and contract."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

# uv makes the venvs and installs into them from the workspace's lock (`_install`).
nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = False
# No session names an interpreter: this acts when one is asked for (`nox -P 3.13`), and an interpreter
# that cannot be found must fail the run, never skip its sessions and exit 0.
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "integration", "contract"]

PYTHONS = ["3.11", "3.12", "3.13"]


# Interrupted, nox does not forward SIGINT: it waits `interrupt_timeout`, sends SIGTERM, waits
# `terminate_timeout`, then SIGKILLs (0.3 s and 0.2 s by default, too short to stop consumers, then
# servers). Our commands treat the first SIGINT or SIGTERM as Ctrl-C (tools/lattice/services/interrupts.py).
INTERRUPT_TIMEOUT, TERMINATE_TIMEOUT = 1.0, 60.0


def _install(session: nox.Session, extras: str) -> None:
    """The workspace (retrace, with the lattice and the client as members) into the session's venv, at the
    versions uv.lock pins: `--locked` fails the session when the lock disagrees with a pyproject.toml
    (`uv lock` updates it), so no run installs what nobody locked."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        *(f"--extra={extra}" for extra in extras.split(",")),
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )
    # A shell that sets PYTHONDONTWRITEBYTECODE makes every process (each xdist worker, each live
    # subprocess) compile every module it imports anew: about 3 s a process here, more than half of a
    # contract run's wall time. The session's venv and the tree's __pycache__ are git-ignored.
    session.env["PYTHONDONTWRITEBYTECODE"] = None


def _lattice(session: nox.Session, *args: str) -> None:
    """`python -m tools.lattice ARGS` with time for an orderly stop on Ctrl-C."""
    session.run(
        "python",
        "-m",
        "tools.lattice",
        *args,
        interrupt_timeout=INTERRUPT_TIMEOUT,
        terminate_timeout=TERMINATE_TIMEOUT,
    )


def _pytest_command(session: nox.Session, suite: str) -> list[str]:
    """`pytest`, or with LATTICE_COVERAGE=1 `coverage run -m pytest` into logs/coverage/<suite>.coverage.*.

    `coverage run` starts measuring before the lattice's plugin imports the app (pytest-cov starts too
    late for the import-time lines), and `patch = subprocess` ([tool.coverage.run]) starts it in every
    Python child too: the xdist workers, the live stack's uvicorn and `retrace worker`."""
    if os.environ.get("LATTICE_COVERAGE") != "1":
        return ["pytest"]
    # Kept across calls (two shards of a suite add up); `rm -rf logs/coverage` starts over.
    data = Path("logs/coverage").resolve()
    data.mkdir(parents=True, exist_ok=True)
    session.env["COVERAGE_FILE"] = str(data / f"{suite}.coverage")
    return ["coverage", "run", "-m", "pytest"]


# pytest-timeout's limit per test (setup and teardown included), per suite: ≈ 10x the slowest test
# recorded in tests/durations.json, for a loaded machine. A test past it fails with every thread's
# stack; its fixtures' teardown (the live stack's too) still runs. `-- --timeout=N` overrides.
TIMEOUTS = {"stateful": 600, "live": 300, "race": 400, "perf": 1200}
DEFAULT_TIMEOUT = 300  # unit, integration, lattice, contract, regression


def _pytest(session: nox.Session, suite: str, paths: list[str], *extra: str) -> None:
    """pytest on the lattice: parallel by default, telemetry and JUnit XML under logs/.

    A file, directory or test id given after `--` inside the suite's paths (`nox -s integration --
    tests/integration/test_marks.py::test_x`) runs instead of the whole suite, not beside it."""
    chosen = [a for a in session.posargs if any(a.split("::")[0].startswith(p) for p in paths)]
    if chosen:
        paths = []
    args = [f"--timeout={TIMEOUTS.get(suite, DEFAULT_TIMEOUT)}", *session.posargs]
    if not any(a == "-n" or a.startswith(("-n=", "--numprocesses")) or a.startswith("-n") for a in args):
        args = ["-n", "auto", *args]
    session.run(
        *_pytest_command(session, suite),
        *paths,
        f"--lattice-suite={suite}",
        f"--junitxml=logs/{suite}.xml",
        *extra,
        *args,
        interrupt_timeout=INTERRUPT_TIMEOUT,
        terminate_timeout=TERMINATE_TIMEOUT,
    )


@nox.session(tags=["ci", "default"])
def lint(session: nox.Session) -> None:
    """`uv lock --check`, ruff (lint + format check), mypy, the CI workflow against its schema,
    `docker compose config`."""
    _install(session, "lint")
    # The workspace's one lock agrees with its three pyproject.toml files.
    session.run("uv", "lock", "--check", external=True)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "app", "tools", "tests")
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", ".github/workflows/lattice.yml"
    )
    # docker-compose.dev.yml as Docker Compose v2 reads it (interpolation, schema), no engine needed.
    compose = session.run(
        "python", "-c", "from tools.lattice.services.compose import binary; print(binary())", silent=True
    )
    assert isinstance(compose, str)
    session.run(compose.strip(), "-f", "docker-compose.dev.yml", "config", "--quiet", external=True)


@nox.session(tags=["ci"])
def docs(session: nox.Session) -> None:
    """The docs hold: console commands, options, links and paths exist (README.md, docs/*.md), the
    blocks marked to run run, and docs/troubleshooting.md quotes every one-line error (tests/docs/)."""
    _install(session, "test")
    # No service set, no xdist, no random order: these tests read files and run `--help`s (under a minute).
    session.run(
        "pytest",
        "tests/docs",
        "-p",
        "no:lattice",
        "-p",
        "no:lattice-shards",
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "--junitxml=logs/docs.xml",
        *session.posargs,
    )


@nox.session(tags=["ci", "default"])
def integration(session: nox.Session) -> None:
    """HTTP -> queue -> worker -> DB flows for every row of docs/api.md, plus the harness's own tests."""
    _install(session, "test")
    _pytest(
        session,
        "integration",
        ["tests/unit", "tests/integration", "tests/lattice", "tests/adopter"],
        "--ignore=tests/integration/stateful",
    )


@nox.session(tags=["ci", "default"])
def contract(session: nox.Session) -> None:
    """Every OpenAPI operation under Hypothesis-generated input, validated with openapi-core."""
    _install(session, "test")
    _pytest(session, "contract", ["tests/contract"])


@nox.session(tags=["ci"])
def stateful(session: nox.Session) -> None:
    """Hypothesis state machines driving the API and the worker, invariants checked after every step."""
    _install(session, "test")
    _pytest(session, "stateful", ["tests/integration/stateful"])


@nox.session(tags=["ci"])
def live(session: nox.Session) -> None:
    """The same flows over a real port (uvicorn + a separate `retrace worker`), and the fault drills."""
    _install(session, "test")
    _pytest(session, "live", ["tests/live"])


@nox.session(tags=["ci"])
def race(session: nox.Session) -> None:
    """Concurrent batches, stalls, abuse and bursts against the live stack, invariants after each."""
    _install(session, "test")
    _pytest(session, "race", ["tests/race"])


@nox.session(tags=["ci"])
def regression(session: nox.Session) -> None:
    """The regression bank: one locked reproduction per past incident."""
    _install(session, "test")
    _pytest(session, "regression", ["tests/regression"])


@nox.session(tags=["ci"])
def perf(session: nox.Session) -> None:
    """Latency and throughput sentinels against a live uvicorn; `-- --accept` takes the run as baseline."""
    _install(session, "perf")
    # One process, file order (the verdict runs last): benchmarks must not compete with each other.
    session.run(
        "pytest",
        "tests/perf",
        "-o",
        "python_files=perf_*.py",
        "-p",
        "no:randomly",
        "-n",
        "0",
        "--lattice-suite=perf",
        "--junitxml=logs/perf.xml",
        f"--timeout={TIMEOUTS['perf']}",
        *session.posargs,
        interrupt_timeout=INTERRUPT_TIMEOUT,
        terminate_timeout=TERMINATE_TIMEOUT,
    )


@nox.session(tags=["ci"])
def spec(session: nox.Session) -> None:
    """The committed OpenAPI document matches the app and is valid; `-- --update` rewrites it."""
    _install(session, "test")
    _lattice(session, "spec", *session.posargs)


@nox.session(tags=["ci"])
def gen(session: nox.Session) -> None:
    """The generated SDK (sdk/) matches the committed document; `-- --update` regenerates it."""
    _install(session, "test,gen")
    _lattice(session, "gen", *session.posargs)


@nox.session(tags=["ci"])
def peer(session: nox.Session) -> None:
    """The contract suite, then schemathesis against the same app (a second opinion, gated by
    openapi/peer-allowlist.toml), both timed in this session: figures in logs/peer.json."""
    _install(session, "peer")
    _lattice(session, "peer", "--contract", "tests/contract", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """Coverage of app/ per suite and overall (HTML, XML, JSON in logs/coverage/), with the CI floor."""
    _install(session, "test")
    _lattice(session, "coverage", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Merge logs directories (shards, jobs, suites) into logs/report/; `-- alerts`; `-- dashboard`."""
    _install(session, "lattice")
    _lattice(session, "report", *session.posargs)


@nox.session
def mutate(session: nox.Session) -> None:
    """Mutation testing: which small changes to app/ the suites notice (default: lines changed vs main)."""
    _install(session, "test")
    _lattice(session, "mutate", *session.posargs)


@nox.session
def promote(session: nox.Session) -> None:
    """Turn a failing Hypothesis example or step program into a regression-bank case."""
    _install(session, "test")
    _lattice(session, "promote", *session.posargs)


@nox.session
def containers(session: nox.Session) -> None:
    """A Docker engine and the containers tier's images from local files: `-- setup`, `-- status`."""
    _install(session, "lattice")
    _lattice(session, "containers", *(session.posargs or ["setup"]))


@nox.session
def services(session: nox.Session) -> None:
    """Service sets by hand: `-- up` (prints the URLs), `-- status`, `-- down ID|--all`, `-- reap`."""
    _install(session, "lattice")
    _lattice(session, "services", *(session.posargs or ["status"]))


@nox.session
def serve(session: nox.Session) -> None:
    """Run Retrace on PostgreSQL and Redis from the service set (embedded when nothing else is set)."""
    _install(session, "lattice")
    _lattice(session, "serve", *session.posargs)


def _foreign_requirements() -> list[str]:
    """What the foreign-mode plugin needs, at the lattice's own pins; not a distribution of this workspace
    (Retrace's `app` would shadow the foreign project's, and the lattice's pytest11 plugins would load in a
    suite that never asked for them: the run puts the lattice on PYTHONPATH instead)."""
    project = nox.project.load_toml("tools/lattice/pyproject.toml")["project"]
    extras = project["optional-dependencies"]
    pins = {re.split(r"[<>=\[ ]", r, maxsplit=1)[0]: r for r in project["dependencies"]}
    own = [r for r in [*extras["services"], *extras["foreign"]] if not r.startswith("retrace-lattice")]
    return [*own, *(pins[name] for name in ("pytest", "pytest-xdist", "pydantic", "pydantic-settings"))]


@nox.session
def foreign(session: nox.Session) -> None:
    """Another project's pytest suite, unmodified, in parallel on a service set: `-- --config FILE`."""
    args = list(session.posargs) or ["--config", "tests/foreign/fastapi-template.toml", "--prove"]
    if "--config" not in args[:-1]:
        session.error("foreign: give --config FILE (a foreign-mode TOML file)")
    config = args[args.index("--config") + 1]
    env = {"PYTHONPATH": str(Path.cwd())}
    # The plugin's own needs at this project's pins, then what the config asks for from the foreign
    # project's files (its dependencies, extras, groups, requirement files; nothing is built there),
    # both in one resolve. Not this project itself: its `app` package would shadow the foreign one.
    session.install(*_foreign_requirements())
    wanted = session.run(
        "python",
        "-m",
        "tools.lattice.engines.foreign",
        "--config",
        config,
        "--requirements",
        env=env,
        silent=True,
    )
    session.install(*_foreign_requirements(), *(line for line in str(wanted).splitlines() if line.strip()))
    session.run("python", "-m", "tools.lattice.engines.foreign", *args, env=env)
