"""The race suite's sizes (set by `--race-*` options, see tests/race/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RaceOptions:
    examples: int  # Hypothesis examples of the concurrent state machine
    batches: int  # batches per example
    shrink_seconds: float  # how long a failure may shrink
    clients: int  # burst clients
    rounds: int  # burst rounds
    stalled: int  # stalled uploads held at once
    parsed_examples: int  # odd values per input of an operation (parsed_inputs sweep)
