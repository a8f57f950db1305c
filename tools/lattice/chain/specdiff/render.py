"""The three outputs of `spec diff`: text for people, JSON for tools, markdown for release notes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from tools.lattice.chain.specdiff.model import Change, Level
from tools.lattice.chain.specdiff.sdknames import consequences


def summary(changes: list[Change]) -> str:
    counts = Counter(c.level for c in changes)
    parts = ", ".join(f"{counts[level]} {level.value}" for level in Level)
    return f"{len(changes)} change{'s' if len(changes) != 1 else ''}: {parts}"


def text(changes: list[Change]) -> str:
    lines = []
    for change in changes:
        lines.append(f"{change.level.value:<8} [{change.id}] {change.operation}")
        lines.append(f"         {change.text}")
        lines.append(f"         at {change.path}")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def as_json(changes: list[Change]) -> str:
    return json.dumps([c.as_dict() for c in changes], indent=2, ensure_ascii=False) + "\n"


_HEADINGS = {
    Level.BREAKING: "Breaking changes",
    Level.WARNING: "Changes to review",
    Level.INFO: "Other changes",
}


def markdown(changes: list[Change], base: Mapping[str, Any], revision: Mapping[str, Any]) -> str:
    old = (base.get("info") or {}).get("version", "?")
    new = (revision.get("info") or {}).get("version", "?")
    title = (revision.get("info") or {}).get("title", "API")
    lines = [f"# {title} {new}", "", f"Changes since {old}: {summary(changes)}.", ""]
    if not changes:
        lines += ["No change a client can see.", ""]
    for level in Level:
        chosen = [c for c in changes if c.level is level]
        if not chosen:
            continue
        lines += [f"## {_HEADINGS[level]}", ""]
        by_operation: dict[str, list[Change]] = defaultdict(list)
        for change in chosen:
            by_operation[change.operation].append(change)
        for operation in sorted(by_operation):
            lines.append(f"- `{operation}`")
            lines += [f"  - {c.text} (`{c.id}`)" for c in by_operation[operation]]
        lines.append("")
    sdk = consequences(changes, base)
    if sdk:
        lines += ["## Generated SDK (retrace-client)", ""]
        lines += [f"- {line}" for line in sdk]
        lines.append("")
    return "\n".join(lines)
