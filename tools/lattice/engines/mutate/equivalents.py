"""The reviewed list of equivalent mutants: changes no test can notice because behaviour does not change.

Each entry names a mutant by its key (printed beside every survivor) and says why it is equivalent;
a listed mutant is counted as `equivalent`, not run, and not shown again.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

EQUIVALENTS_FILE = Path("tests/mutation/equivalent.toml")


class EquivalentsError(Exception):
    pass


def load(path: Path) -> dict[str, str]:
    """key -> reason; a malformed file is one line naming the entry."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise EquivalentsError(f"mutate: {path}: {exc}") from None
    out: dict[str, str] = {}
    for n, entry in enumerate(data.get("equivalent", []), start=1):
        key, reason = entry.get("key"), str(entry.get("reason", "")).strip()
        if not isinstance(key, str) or not key:
            raise EquivalentsError(f"mutate: {path}: entry {n} has no `key`")
        if not reason:
            raise EquivalentsError(
                f"mutate: {path}: entry {n} ({key}) has no `reason`: say why it is equivalent"
            )
        out[key] = reason
    return out
