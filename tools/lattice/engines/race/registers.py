"""Overlapping writes to one value: which final values are consistent with what was acknowledged.

A register's history is its value before the batch (a write that ended before anything started) and
every acknowledged write of the batch, each with the interval it was in flight. A write W can be the
last one only when no other acknowledged write began after W was answered; the final value must be
one of those candidates' values. (The check Jepsen's linearizability checkers make, for one register
and the writes only, which is all the API lets a client observe without reading concurrently.)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    value: Hashable
    started: float
    ended: float
    label: str = ""


def final_candidates(before: Hashable, writes: Iterable[Write]) -> set[Hashable]:
    history = [Write(before, float("-inf"), float("-inf"), "before"), *writes]
    return {
        w.value for w in history if not any(other.started > w.ended for other in history if other is not w)
    }
