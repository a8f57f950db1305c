"""A change between two documents, its level, and the registry of every check id with its default level."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tools.lattice.chain.specdiff.oasdiff import oasdiff_id


class Level(StrEnum):
    """How a change affects a client built on the base document (oasdiff's error / warn / info)."""

    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"breaking": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Check:
    id: str
    level: Level
    summary: str


CHECKS: dict[str, Check] = {}


def register(check_id: str, level: Level, summary: str) -> str:
    """Declare a check id once, with its default level; returns the id for use as a constant."""
    if check_id in CHECKS and CHECKS[check_id].level is not level:
        raise ValueError(f"check {check_id} registered twice with different levels")
    CHECKS[check_id] = Check(check_id, level, summary)
    return check_id


@dataclass(frozen=True)
class Change:
    """One finding: `path` is a JSON pointer into the document as the operation sees it ($refs followed)."""

    id: str
    level: Level
    operation: str
    path: str
    text: str
    # Component schemas the change lies in, outermost first (the SDK models whose shape it changes).
    components: tuple[str, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level.value,
            "operation": self.operation,
            "path": self.path,
            "text": self.text,
            "oasdiff_id": oasdiff_id(self.id),
        }

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.level.rank, self.operation, self.path, self.id)


class Report:
    """Collects changes at the registry's default level (levels.toml is applied afterwards)."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(
        self, check_id: str, operation: str, path: str, text: str, components: tuple[str, ...] = ()
    ) -> None:
        check = CHECKS[check_id]  # a KeyError here is a programming error: every id is registered
        self.changes.append(Change(check_id, check.level, operation, path, text, components))
