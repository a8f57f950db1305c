"""Per-test contexts for the processes the tests start (the live stack's API and worker, `retrace serve`).

pytest-cov names each line the test process runs after the test that ran it; a child process (which
coverage's `patch = subprocess` measures too) has no tests, so its lines had no context and the map
gave a mutant there no test at all. Two halves, one module:

- as a pytest plugin (`-p tools.lattice.engines.mutate.contexts`, the map's run only), each test process
  writes the id of the test it is running to a file of its own before the test's setup, and puts the
  file's path in its environment, which its children inherit;
- as a coverage plugin (the map's coverage configuration lists it, and `patch = subprocess` hands that
  configuration to every child), a child that finds the path follows the file from a thread and
  switches its coverage context to `<test id>|child` whenever the test changes.

A child follows by polling, so a line it runs just after the test changed may carry the test before;
each test process also appends the ids it ran to `<file>.order`, and the map credits a child's line to
the tests either side of the one it names in that order too (`neighbours`): a test more to run for
such a mutant, never a missed kill.

The test processes themselves never follow: an xdist worker is a child of pytest's main process, is
measured by `patch = subprocess` from its first line, before it has imported pytest, and inherits the
main process's file. Following it, the worker relabelled its own lines, between pytest-cov's switches,
after whichever test the main process last heard of, on any worker: the map's assignment then varied
from run to run, and a line missed the test that ran it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported for real: a child that imported pytest would look like a test process
    import pytest

DIRECTORY_ENV = "LATTICE_MUTATE_CONTEXTS"  # set by the map's run: where the test processes write
FILE_ENV = "LATTICE_MUTATE_CONTEXT_FILE"  # set by each test process for its children
CHILD_PHASE = "child"
ORDER_SUFFIX = ".order"
FOLLOW_INTERVAL_S = 0.02


# --- the test process -------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    directory = os.environ.get(DIRECTORY_ENV)
    # xdist's main process runs no test (it hears of every worker's): its workers, which inherit its
    # environment, must not find a file to follow.
    if not directory or (getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")):
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(directory) / f"{worker}.{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    Path(f"{path}{ORDER_SUFFIX}").write_text("")
    os.environ[FILE_ENV] = str(path)


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    path = os.environ.get(FILE_ENV)
    if not path:
        return
    fresh = f"{path}.new"
    Path(fresh).write_text(nodeid)
    os.replace(fresh, path)  # a reader sees the old id or the new one, never half of one
    with open(f"{path}{ORDER_SUFFIX}", "a") as order:
        order.write(nodeid + "\n")


def neighbours(directory: Path) -> dict[str, set[str]]:
    """For each test, the tests run just before and after it by the same process (see the docstring)."""
    found: dict[str, set[str]] = {}
    for order in sorted(directory.glob(f"*{ORDER_SUFFIX}")):
        ran = order.read_text().splitlines()
        for i, test in enumerate(ran):
            found.setdefault(test, set()).update(ran[max(i - 1, 0) : i + 2])
    return found


def tests_of(names: set[str] | list[str], near: dict[str, set[str]]) -> set[str]:
    """The tests a line's coverage contexts name: `<id>|setup|run|teardown` that test, a child's
    `<id>|child` that test and its neighbours."""
    tests: set[str] = set()
    for name in names:
        test, _, phase = name.rpartition("|")
        if not test:
            continue
        tests.add(test)
        if phase == CHILD_PHASE:
            tests |= near.get(test, set())
    return tests


# --- a child process --------------------------------------------------------------------------


def _follow(path: str) -> None:
    from coverage import Coverage

    current = None
    while True:
        if "_pytest" in sys.modules:
            return  # a test process after all (an xdist worker): pytest-cov names its lines
        cov = Coverage.current()
        if cov is not None:
            try:
                test = Path(path).read_text().strip()
            except OSError:
                test = ""
            if test and test != current:
                try:
                    cov.switch_context(f"{test}|{CHILD_PHASE}")
                    current = test
                except Exception:  # noqa: S110 - coverage stopping: this process is on its way out
                    pass
        # Quick until the first switch: the process's start-up (argument parsing, settings) is the
        # code only a child runs, and it runs in the first moments.
        time.sleep(0.001 if current is None else FOLLOW_INTERVAL_S)


def coverage_init(reg: Any, options: dict[str, str]) -> None:
    path = os.environ.get(FILE_ENV)
    # A test process has pytest-cov switching its contexts already: only its children follow the file.
    if path and "pytest" not in sys.modules and "_pytest" not in sys.modules:
        threading.Thread(target=_follow, args=(path,), name="mutate-contexts", daemon=True).start()


# --- the map's coverage configuration ---------------------------------------------------------


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def coverage_config(root: Path, into: Path) -> Path:
    """The project's [tool.coverage.run] with this module added as a plugin, written to `into`."""
    import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text())
    run = dict(project.get("tool", {}).get("coverage", {}).get("run", {}))
    run["plugins"] = [*run.get("plugins", []), __name__]
    lines = ["[tool.coverage.run]", *(f"{key} = {_toml_value(value)}" for key, value in run.items())]
    into.write_text("\n".join(lines) + "\n")
    return into
