"""Bystanders: ordinary requests timed while something abuses the server, against a baseline of the same
requests measured minutes (not days) before on the same loaded machine, so the bound is a ratio.

`baseline` times a few answers on a quiet server; `steady` then asks again and again until `count`
answers in a row are 2xx and within `ratio` x the baseline's slowest, or a deadline passes. A server
that must first work through a pile of abusive requests gets that long to settle; one whose resources
are held by them never answers in time, however long it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Ask = Callable[[float], httpx.Response]  # one bystander request, given its timeout in seconds


def _timed(ask: Ask, timeout_s: float) -> tuple[float, int | str]:
    began = time.monotonic()
    try:
        status: int | str = ask(timeout_s).status_code
    except httpx.TransportError as exc:
        status = type(exc).__name__
    return time.monotonic() - began, status


def baseline(ask: Ask, samples: int = 8) -> float:
    """The slowest of `samples` answers (each must be 2xx): the unit the bound is a multiple of."""
    worst = 0.0
    for _ in range(samples):
        took, status = _timed(ask, 10.0)
        if not (isinstance(status, int) and 200 <= status < 300):
            raise AssertionError(f"a bystander answered {status} at rest")
        worst = max(worst, took)
    return worst


@dataclass
class Steady:
    bound_s: float
    reached: bool = False
    settle_s: float = 0.0  # from the start until the streak began
    answers: list[tuple[float, int | str]] = field(default_factory=list)

    @property
    def worst_s(self) -> float:
        """The slowest answer seen (settling included)."""
        return max((took for took, _ in self.answers), default=0.0)

    def shown(self) -> str:
        tail = ", ".join(f"{status} in {took:.3f}s" for took, status in self.answers[-6:])
        return f"bound {self.bound_s:.3f}s; last answers: {tail}"


def steady(ask: Ask, unit_s: float, *, ratio: float, count: int, within_s: float) -> Steady:
    """Ask until `count` answers in a row are 2xx within `ratio` x `unit_s`, for at most `within_s`."""
    result = Steady(bound_s=ratio * unit_s)
    began = time.monotonic()
    deadline = began + within_s
    streak_began, streak = began, 0
    while streak < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return result
        took, status = _timed(ask, max(remaining, 0.1))
        result.answers.append((took, status))
        fine = isinstance(status, int) and 200 <= status < 300 and took <= result.bound_s
        if fine:
            if streak == 0:
                streak_began = time.monotonic() - took
            streak += 1
        else:
            streak = 0
    result.reached = True
    result.settle_s = streak_began - began
    return result
