"""The race suite's defect classes, and which operations of the document each one sweeps.

A class is a kind of defect (a slow peer holding a resource, an input past its bound, ...), not a route:
its sweep enumerates the operations of the committed OpenAPI document at run time and runs against every
one it applies to, so an operation added tomorrow is swept tomorrow. `applies` says which operations a
class reaches; an operation no class reaches fails `tests/unit/test_sweep_classes.py`.

Each sweep records what it did with `record(name, ...)`; the figures are summed across xdist workers and
written per class to `logs/race.json` (see `tools.lattice.engines.race.figures`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.lattice.engines.contract import Operation, operations


def _every(op: Operation) -> bool:
    return True


def _writes(op: Operation) -> bool:
    return op.method in {"post", "put", "patch", "delete"}


def _secured_or_on_a_resource(op: Operation) -> bool:
    return op.secured or bool(op.parameters("path"))


def _stores_what_the_worker_transforms(op: Operation) -> bool:
    # The worker reads a mark's url, note and attachment: whatever creates or replaces one of them.
    return op.operation_id in {"marks-create", "marks-update", "attachments-upload"}


@dataclass(frozen=True)
class SweepClass:
    name: str
    module: str  # the test module that sweeps it, relative to the repository root
    what: str
    applies: Callable[[Operation], bool]


CLASSES: tuple[SweepClass, ...] = (
    SweepClass(
        "slow_peers",
        "tests/race/test_sweep_slow_peers.py",
        "stalled or trickled heads, bodies and response reads hold no pooled connection, and time out",
        _every,
    ),
    SweepClass(
        "size_bounds",
        "tests/race/test_sweep_size_bounds.py",
        "head, header, trailers, request line, JSON and upload bodies, header count: refused before read",
        _every,
    ),
    SweepClass(
        "parsed_inputs",
        "tests/race/test_sweep_parsed_inputs.py",
        "every parameter and header the service parses, under arbitrary text: never a 5xx",
        _every,
    ),
    SweepClass(
        "toctou",
        "tests/race/test_sweep_toctou.py",
        "a credential revoked or a resource replaced or deleted while a request on it is in flight",
        _secured_or_on_a_resource,
    ),
    SweepClass(
        "worker_inputs",
        "tests/race/test_sweep_worker_inputs.py",
        "every stored value the worker transforms reaches success or failed within its attempts",
        _stores_what_the_worker_transforms,
    ),
    SweepClass(
        "crash_debris",
        "tests/race/test_sweep_crash_debris.py",
        "SIGKILL during writes leaves no debris after a restart, and nothing acknowledged is lost",
        _writes,
    ),
)

BY_NAME = {c.name: c for c in CLASSES}


def swept(name: str, document: dict[str, Any] | None = None) -> list[Operation]:
    """The operations of the (committed) document that class `name` sweeps, in document order."""
    applies = BY_NAME[name].applies
    return [op for op in operations(document) if applies(op)]


def unswept(document: dict[str, Any] | None = None) -> list[Operation]:
    """The operations no class sweeps (there should be none)."""
    return [op for op in operations(document) if not any(c.applies(op) for c in CLASSES)]


def record(name: str, **values: Any) -> None:
    """Add to class `name`'s figures: counts add up across calls and workers, `worst_*` keep the maximum,
    `leftovers` (a list) is extended. Conventional keys: operations_swept, requests,
    worst_bystander_latency_s, rss_growth_bytes, leftovers."""
    from tools.lattice.engines.race.figures import FIGURES

    FIGURES.add_class_figures(name, values)
