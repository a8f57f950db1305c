"""openapi/levels.toml: raise or lower a check's level, as oasdiff's severity-levels file does.

    [levels]
    response-optional-property-removed = "info"     # breaking | warning | info | none (drop it)

An id no check has is an error naming it, so a typo never silently keeps a gate open.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from tools.lattice.chain.document import REPO_ROOT, shown
from tools.lattice.chain.specdiff.model import CHECKS, Change, Level

LEVELS_PATH = REPO_ROOT / "openapi" / "levels.toml"
NONE = "none"


class LevelsError(Exception):
    """The levels file is unreadable or names an unknown id or level; one line."""


def load_levels(path: Path = LEVELS_PATH) -> dict[str, Level | None]:
    """The overrides (None: the check is dropped); a missing file means no overrides."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LevelsError(f"{shown(path)} cannot be read: {exc}") from None
    table = data.get("levels", {})
    unexpected = sorted(set(data) - {"levels"})
    if unexpected or not isinstance(table, Mapping):
        raise LevelsError(
            f"{shown(path)}: only a [levels] table is expected (found {unexpected or 'levels'})"
        )
    overrides: dict[str, Level | None] = {}
    for check_id, value in table.items():
        if check_id not in CHECKS:
            raise LevelsError(
                f"{shown(path)}: unknown check id {check_id!r} "
                "(`python -m tools.lattice spec checks` lists them)"
            )
        if value == NONE:
            overrides[check_id] = None
            continue
        try:
            overrides[check_id] = Level(value)
        except ValueError:
            raise LevelsError(
                f"{shown(path)}: {check_id} = {value!r} is not one of breaking, warning, info, none"
            ) from None
    return overrides


def apply_levels(changes: list[Change], overrides: Mapping[str, Level | None]) -> list[Change]:
    out = []
    for change in changes:
        if change.id not in overrides:
            out.append(change)
            continue
        level = overrides[change.id]
        if level is not None:
            out.append(replace(change, level=level))
    return sorted(out, key=Change.sort_key)
