"""The oasdiff check id a `spec diff` check corresponds to, where one does (`--format json`'s `oasdiff_id`).

Most ids are oasdiff's own (`<location>-<aspect>`); `ALIASES` names the ones spelled differently. The
list of oasdiff's ids is oasdiff_ids.txt, rebuilt with the conformance cases from a pinned commit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

IDS_PATH = Path(__file__).with_name("oasdiff_ids.txt")

# spec diff id → oasdiff id, where the two tools name the same finding differently.
ALIASES: dict[str, str] = {
    "api-security-alternative-added": "api-security-added",
    "request-property-removed-from-closed-schema": "request-property-removed",
}


@cache
def oasdiff_ids() -> frozenset[str]:
    lines = IDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def oasdiff_id(check_id: str) -> str | None:
    if check_id in ALIASES:
        return ALIASES[check_id]
    return check_id if check_id in oasdiff_ids() else None
