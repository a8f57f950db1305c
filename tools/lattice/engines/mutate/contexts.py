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

A child's line is so attributed to the test that was running when the line ran, give or take the
follow interval: a test started just after gets the tail of the one before, which costs a mutant a
test more to run, not a missed kill.
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
FOLLOW_INTERVAL_S = 0.02


# --- the test process -------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    directory = os.environ.get(DIRECTORY_ENV)
    if not directory:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(directory) / f"{worker}.{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    os.environ[FILE_ENV] = str(path)


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    path = os.environ.get(FILE_ENV)
    if path:
        fresh = f"{path}.new"
        Path(fresh).write_text(nodeid)
        os.replace(fresh, path)  # a reader sees the old id or the new one, never half of one


# --- a child process --------------------------------------------------------------------------


def _follow(path: str) -> None:
    from coverage import Coverage

    current = None
    while True:
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
