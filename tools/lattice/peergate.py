"""The peer gate: schemathesis' failures against a reviewed allowlist (openapi/peer-allowlist.toml).

A failure is (check, operation), e.g. ("ST202", "GET /v1/marks"). The gate fails on a failure the list
does not name (the document and the service disagree somewhere new) and on an entry no failure matched
any more (the list must stay true: a fixed gap leaves it). Every entry carries its reason. An entry found
only by the stateful phase, whose call sequences differ run to run, says `sometimes = true`: it is not
called stale when a run did not happen upon it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ALLOWLIST = Path("openapi/peer-allowlist.toml")

_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_CHECK = re.compile(r"^- (.+)$")
_CODE = re.compile(r"^(ST\d+)\b")


class AllowlistError(Exception):
    """The message is one line naming the file and the entry."""


@dataclass(frozen=True)
class Allowed:
    check: str
    operation: str
    reason: str
    sometimes: bool = False


@dataclass(frozen=True)
class Verdict:
    unlisted: list[tuple[str, str]]
    stale: list[Allowed]
    allowlisted: list[tuple[str, str]]

    @property
    def passed(self) -> bool:
        return not self.unlisted and not self.stale


def failures(output: str) -> set[tuple[str, str]]:
    """(check code, operation) of every failure in schemathesis' FAILURES section."""
    found: set[tuple[str, str]] = set()
    operation: str | None = None
    in_failures = False
    for line in output.splitlines():
        if "FAILURES" in line and line.startswith("="):
            in_failures = True
            continue
        if in_failures and line.startswith("=") and "FAILURES" not in line:
            break
        if not in_failures:
            continue
        section = _SECTION.match(line)
        if section:
            operation = section.group(1).strip()
            continue
        check = _CHECK.match(line)
        if check and operation is not None:
            title = check.group(1).strip()
            code = _CODE.match(title)
            found.add((code.group(1) if code else title, operation))
    return found


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    try:
        entries = tomllib.loads(path.read_text()).get("allow", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AllowlistError(f"peer: cannot read {path}: {exc}") from None
    allowed = []
    for index, entry in enumerate(entries, start=1):
        missing = [key for key in ("check", "operation", "reason") if not str(entry.get(key, "")).strip()]
        if missing:
            raise AllowlistError(f"peer: {path}: [[allow]] entry {index} lacks {', '.join(missing)}")
        sometimes = entry.get("sometimes", False)
        if not isinstance(sometimes, bool):
            raise AllowlistError(f"peer: {path}: [[allow]] entry {index}: sometimes must be true or false")
        allowed.append(Allowed(entry["check"], entry["operation"], entry["reason"], sometimes))
    return allowed


def judge(found: set[tuple[str, str]], allowed: list[Allowed]) -> Verdict:
    listed = {(entry.check, entry.operation) for entry in allowed}
    return Verdict(
        unlisted=sorted(found - listed),
        stale=[
            entry for entry in allowed if (entry.check, entry.operation) not in found and not entry.sometimes
        ],
        allowlisted=sorted(found & listed),
    )
