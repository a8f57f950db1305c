"""The peer gate: schemathesis' failures (read from its JUnit XML) against a reviewed allowlist
(openapi/peer-allowlist.toml).

A failure is (check, operation), e.g. ("ST202", "GET /v1/marks"). The gate fails on a failure the list
does not name (the document and the service disagree somewhere new) and on an entry no failure matched
any more (the list must stay true: a fixed gap leaves it). Every entry carries its reason. An entry found
only by the stateful phase, whose call sequences differ run to run, says `sometimes = true`: it is not
called stale when a run did not happen upon it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

ALLOWLIST = Path("openapi/peer-allowlist.toml")


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


def failures(junit: Path) -> set[tuple[str, str]]:
    """(check code, operation) of every failure in schemathesis' JUnit XML (`--report junit`).

    One <testcase> per operation (its name "METHOD /path", or "Stateful tests"); each <failure>'s message
    lists the codes of its checks ("ST202, ST302"). An <error> (the operation could not be tested: a
    network error, a schema schemathesis cannot read) counts as the check "error": a gap all the same."""
    try:
        root = ElementTree.parse(junit).getroot()  # noqa: S314 - this session's own schemathesis report
    except (OSError, ElementTree.ParseError) as exc:
        raise AllowlistError(f"peer: cannot read schemathesis' JUnit XML {junit}: {exc}") from None
    found: set[tuple[str, str]] = set()
    for case in root.iter("testcase"):
        operation = case.get("name", "")
        for failure in case.findall("failure"):
            codes = [code.strip() for code in (failure.get("message") or "").split(",") if code.strip()]
            found.update((code, operation) for code in codes or ["failure"])
        if case.find("error") is not None:
            found.add(("error", operation))
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
