"""Gathers the state machines' step counts from every xdist worker and reports them once per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.lattice.plugin import stepcount

_TOTAL = pytest.StashKey[dict[str, stepcount.MachineCount]]()


def _total(config: pytest.Config) -> dict[str, stepcount.MachineCount]:
    return config.stash.setdefault(_TOTAL, {})


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[stepcount.WORKEROUTPUT_KEY] = stepcount.snapshot()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = getattr(node, "workeroutput", {}).get(stepcount.WORKEROUTPUT_KEY)
    if counts:
        stepcount.merge_into(_total(node.config), counts)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    total = _total(config)
    stepcount.merge_into(total, stepcount.snapshot())  # without xdist the counts are this process's
    if not total:
        return
    path = Path(config.getoption("--lattice-logs")) / "stateful-figures.json"
    stepcount.write(path, total)
    terminalreporter.section("state machines")
    for line in stepcount.summary_lines(total):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"figures: {path}")
