"""The version policy: what bump of `info.version` a change needs (semver, with 0.x as Cargo reads it).

| what changed from base to revision                           | 1.0.0 and later  | 0.x.y            |
|--------------------------------------------------------------|------------------|------------------|
| nothing, or only `info`                                      | none             | none             |
| only descriptions, summaries, examples, externalDocs          | at least patch   | at least patch   |
| anything else, nothing breaking                               | at least minor   | at least patch   |
| a breaking change (after openapi/levels.toml)                 | major            | minor (or major) |

Below 1.0.0 the minor number plays the major's role (semver §4, Cargo's caret rule): 0.1.0 → 0.2.0 may
break, 0.1.0 → 0.1.1 may add. A version that goes down, or that is not MAJOR.MINOR.PATCH (a `v`
prefix and pre-release/build suffixes are accepted and ignored), always fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.lattice.chain.specdiff.model import Change, Level

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
_COSMETIC = {"description", "summary", "example", "examples", "externalDocs"}
# Maps whose keys are names chosen by the author (a property may well be called `description`).
_NAMED = {"properties", "patternProperties", "schemas", "paths", "responses", "headers", "content"}
_NAMED |= {"securitySchemes", "parameters", "requestBodies", "links", "callbacks", "$defs", "definitions"}

NONE, PATCH, MINOR, MAJOR = 0, 1, 2, 3
NAMES = {NONE: "none", PATCH: "patch", MINOR: "minor", MAJOR: "major"}


class PolicyError(Exception):
    """info.version cannot be judged (not semver); one line."""


def parse(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version.strip())
    if match is None:
        raise PolicyError(f"info.version {version!r} is not a semantic version MAJOR.MINOR.PATCH")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def granted(old: str, new: str) -> int:
    """What the bump from `old` to `new` allows: MAJOR (breaking), MINOR, PATCH, NONE; -1 if it went down."""
    a, b = parse(old), parse(new)
    if b < a:
        return -1
    if b == a:
        return NONE
    if b[0] > a[0]:
        return MAJOR
    if a[0] == 0:  # 0.x: a minor bump may break, a patch bump may add
        return MAJOR if b[1] > a[1] else MINOR
    return MINOR if b[1] > a[1] else PATCH


def _strip(node: Any, named: bool = False) -> Any:
    if isinstance(node, Mapping):
        return {
            k: _strip(v, named=(not named and k in _NAMED))
            for k, v in node.items()
            if named or k not in _COSMETIC
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def needed(base: Mapping[str, Any], revision: Mapping[str, Any], changes: Iterable[Change]) -> int:
    """The smallest bump (in 1.x terms) the change from `base` to `revision` needs."""
    if any(c.level is Level.BREAKING for c in changes):
        return MAJOR
    without_info = [{k: v for k, v in d.items() if k != "info"} for d in (base, revision)]
    if without_info[0] == without_info[1]:
        return NONE
    if _strip(without_info[0]) == _strip(without_info[1]):
        return PATCH
    return MINOR


@dataclass(frozen=True)
class Verdict:
    ok: bool
    needed: int
    old_version: str
    new_version: str
    message: str


def judge(base: Mapping[str, Any], revision: Mapping[str, Any], changes: list[Change]) -> Verdict:
    old = str((base.get("info") or {}).get("version", ""))
    new = str((revision.get("info") or {}).get("version", ""))
    need = needed(base, revision, changes)
    if need == NONE:
        return Verdict(True, need, old, new, f"info.version {old} → {new}: no bump needed")
    got = granted(old, new)
    zero = parse(old)[0] == 0
    wanted = _wanted(need, zero)
    if got >= need:
        return Verdict(True, need, old, new, f"info.version {old} → {new} allows these changes ({wanted})")
    if got < 0:
        return Verdict(
            False, need, old, new, f"info.version went down from {old} to {new}; it needs {wanted}"
        )
    why = "breaking changes" if need == MAJOR else "API changes" if need == MINOR else "documentation changes"
    breaking = sorted({c.id for c in changes if c.level is Level.BREAKING})
    named = f": {', '.join(breaking)}" if breaking else ""
    return Verdict(
        False, need, old, new, f"{why}{named} need {wanted} of info.version, which is {old} → {new}"
    )


def _wanted(need: int, zero: bool) -> str:
    if zero:  # 0.x: a breaking change needs a minor bump, anything else a patch bump
        return {MAJOR: "a minor bump (0.x)", MINOR: "a patch bump (0.x)", PATCH: "a patch bump"}[need]
    return {MAJOR: "a major bump", MINOR: "a minor bump", PATCH: "a patch bump"}[need]
