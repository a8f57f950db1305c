"""Shards: the K-th of N balanced parts of a suite, for CI jobs that split one suite across machines.

`--lattice-shard K/N` (or LATTICE_SHARD=K/N) keeps the tests of part K and deselects the rest. Parts
are balanced by the durations recorded in earlier telemetry (tests/durations.json, refreshed with
`python -m tools.lattice shards refresh logs/*.json`); a test with no record counts as the median of
the known ones (every test as 1 when nothing is known, which balances by count). The assignment
depends only on the collected ids and the durations file, so every shard (and every xdist worker of a
shard) computes the same one, and each test lands in exactly one shard.
"""

from __future__ import annotations

import argparse
import heapq
import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest

DURATIONS_FILE = Path("tests/durations.json")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    pass


def parse_shard(text: str) -> tuple[int, int]:
    """'2/3' -> (2, 3); anything else is one line saying what is expected."""
    match = _SHARD.match(text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ShardError(f"lattice: shard {text!r} is not K/N with 1 ≤ K ≤ N (e.g. 1/2)")
    return int(match.group(1)), int(match.group(2))


def assign(tests: list[str], durations: dict[str, float], shards: int) -> list[list[str]]:
    """Longest first, each onto the lightest shard so far (ties: the lower shard): within 4/3 of optimal."""
    known = [durations[t] for t in tests if t in durations]
    fallback = statistics.median(known) if known else 1.0
    weighted = sorted(((durations.get(t, fallback), t) for t in tests), key=lambda p: (-p[0], p[1]))
    heap = [(0.0, i) for i in range(shards)]
    parts: list[list[str]] = [[] for _ in range(shards)]
    for weight, test in weighted:
        load, index = heapq.heappop(heap)
        parts[index].append(test)
        heapq.heappush(heap, (load + weight, index))
    return parts


def load_durations(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def durations_from_telemetry(files: list[Path]) -> dict[str, float]:
    """The latest recorded duration of each test across telemetry files (JSON lines of TestRecord)."""
    out: dict[str, float] = {}
    for file in files:
        for row in file.read_text().splitlines():
            try:
                record = json.loads(row)
            except ValueError:
                continue
            if isinstance(record, dict) and "test" in record and "duration_s" in record:
                out[record["test"]] = round(float(record["duration_s"]), 3)
    return out


# ---- pytest: the option and the deselection


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("lattice").addoption(
        "--lattice-shard",
        default=None,
        metavar="K/N",
        help="run the K-th of N parts balanced by tests/durations.json (default: LATTICE_SHARD, else all)",
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


def pytest_configure(config: pytest.Config) -> None:
    shard_of(config)  # a bad value stops the run before any collection, with one line


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = shard_of(config)
    if shard is None:
        return
    k, n = shard
    durations = load_durations(Path(config.rootpath) / DURATIONS_FILE)
    keep = set(assign([item.nodeid for item in items], durations, n)[k - 1])
    deselected = [item for item in items if item.nodeid not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid in keep]


def pytest_report_header(config: pytest.Config) -> str | None:
    shard = shard_of(config)
    return f"lattice shard {shard[0]}/{shard[1]} (balanced by {DURATIONS_FILE})" if shard else None


# ---- the command line: refresh the durations file, show a split


def _refresh(args: argparse.Namespace) -> int:
    files = [Path(f) for f in args.telemetry]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"lattice: no telemetry file {', '.join(missing)} (run a suite first: nox -s integration)")
        return 2
    current = load_durations(DURATIONS_FILE)
    fresh = durations_from_telemetry(files)
    merged = {**current, **fresh}
    DURATIONS_FILE.write_text(json.dumps(dict(sorted(merged.items())), indent=0) + "\n")
    print(
        f"lattice: {DURATIONS_FILE}: {len(fresh)} durations from {len(files)} file(s), {len(merged)} in all"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        n = parse_shard(f"1/{args.shards}")[1]
    except ShardError as exc:
        print(str(exc))
        return 2
    durations = load_durations(DURATIONS_FILE)
    tests = [t for t in durations if t.startswith(tuple(args.prefix))] if args.prefix else list(durations)
    parts = assign(tests, durations, n)
    loads = [sum(durations.get(t, 0.0) for t in part) for part in parts]
    for i, (part, load) in enumerate(zip(parts, loads, strict=True), start=1):
        print(f"shard {i}/{n}: {len(part):>4} tests, {load:8.2f} s recorded")
    if min(loads) > 0:
        print(f"balance (longest ÷ shortest): {max(loads) / min(loads):.3f}")
    return 0


def add_shards_commands(subparsers: Any) -> None:
    shards = subparsers.add_parser("shards", help="durations for balanced shards (--lattice-shard K/N)")
    sub = shards.add_subparsers(dest="shards_command", required=True, metavar="COMMAND")
    refresh = sub.add_parser(
        "refresh", help=f"update {DURATIONS_FILE} from telemetry files (logs/<suite>.json)"
    )
    refresh.add_argument("telemetry", nargs="+", help="telemetry JSON-lines files")
    refresh.set_defaults(handler=_refresh)
    show = sub.add_parser("show", help="how N shards would split the recorded tests")
    show.add_argument("shards", type=int, help="number of shards")
    show.add_argument(
        "prefix", nargs="*", help="only tests whose id starts with one of these (e.g. tests/integration)"
    )
    show.set_defaults(handler=_show)
