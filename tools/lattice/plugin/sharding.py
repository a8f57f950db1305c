"""`--lattice-shard K/N` (or LATTICE_SHARD=K/N): pytest-split's `--splits N --group K`, spelled once.

pytest-split does the work: it reads the durations file, puts each test (longest first) onto the part
with the least recorded time so far (`least_duration`; a test with no record counts as the mean of the
known ones), and deselects the other parts. The assignment depends only on the collected ids and the
file, so every shard and every xdist worker of a shard computes the same one. This module only adds the
lattice's spelling (one option, one variable, one line for a bad value), the lattice's file
(tests/durations.json, also where `--store-durations` writes) and that algorithm (the library's default,
`duration_based_chunks`, cuts the file order into runs and balances worse).
"""

from __future__ import annotations

import os
import re

import pytest

DURATIONS_FILE = "tests/durations.json"
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    pass


def parse_shard(text: str) -> tuple[int, int]:
    """'2/3' -> (2, 3); anything else is one line saying what is expected."""
    match = _SHARD.match(text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ShardError(f"lattice: shard {text!r} is not K/N with 1 ≤ K ≤ N (e.g. 1/2)")
    return int(match.group(1)), int(match.group(2))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("lattice").addoption(
        "--lattice-shard",
        default=None,
        metavar="K/N",
        help=f"run the K-th of N parts balanced by {DURATIONS_FILE} (default: LATTICE_SHARD, else all)",
    )


def shard_of(config: pytest.Config) -> tuple[int, int] | None:
    from tools.lattice.config import load_settings

    text = config.getoption("--lattice-shard") or load_settings().shard
    if not text:
        return None
    try:
        return parse_shard(text)
    except ShardError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)  # before pytest-split's own pytest_configure reads these options
def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if not hasattr(option, "splits"):
        if shard_of(config):
            raise pytest.UsageError("lattice: --lattice-shard needs pytest-split (install retrace-lattice)")
        return
    # pytest-split's default file is ./.test_durations; the lattice keeps its own in the tree.
    if option.durations_path == os.path.join(os.getcwd(), ".test_durations"):
        option.durations_path = str(config.rootpath / DURATIONS_FILE)
    shard = shard_of(config)  # a bad value stops the run before any collection, with one line
    if shard is None:
        return
    # An xdist worker gets the controller's options, these two already set from the same shard.
    if (option.splits or option.group) and (option.group, option.splits) != shard:
        raise pytest.UsageError("lattice: give --lattice-shard / LATTICE_SHARD or --splits/--group, not both")
    option.group, option.splits = shard
    option.splitting_algorithm = "least_duration"


def pytest_report_header(config: pytest.Config) -> str | None:
    shard = shard_of(config)
    return f"lattice shard {shard[0]}/{shard[1]} (pytest-split, {DURATIONS_FILE})" if shard else None
