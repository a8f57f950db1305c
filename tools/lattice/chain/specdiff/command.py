"""`spec diff` and `spec checks` on the command line, and the version policy as the spec guard uses it."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.lattice.chain.document import DOCUMENT_PATH, REPO_ROOT
from tools.lattice.chain.specdiff import render
from tools.lattice.chain.specdiff.document import (
    DiffInputError,
    Json,
    Side,
    at_ref,
    from_file,
    git,
    is_git_ref,
    live,
    load,
)
from tools.lattice.chain.specdiff.levels import LEVELS_PATH, LevelsError, apply_levels, load_levels
from tools.lattice.chain.specdiff.model import CHECKS, Change, Level
from tools.lattice.chain.specdiff.operations import diff
from tools.lattice.chain.specdiff.policy import MAJOR, PolicyError, Verdict, granted, judge

BASE_ENV = "LATTICE_SPEC_BASE"
MAIN_BRANCHES = ("main", "origin/main")


def classified(base: Json, revision: Json, levels_path: Path = LEVELS_PATH) -> list[Change]:
    """The changes from `base` to `revision` at the levels openapi/levels.toml sets."""
    return apply_levels(diff(base, revision), load_levels(levels_path))


def breaking_allowed(base: Json, revision: Json) -> bool:
    """True when info.version moved by a bump that may break (major; minor below 1.0.0)."""
    try:
        old = str(base.get("info", {}).get("version", ""))
        new = str(revision.get("info", {}).get("version", ""))
        return granted(old, new) == MAJOR
    except PolicyError:
        return False


def _diff(args: argparse.Namespace) -> int:
    try:
        base = load(args.base) if args.base else from_file(DOCUMENT_PATH)
        revision = load(args.revision) if args.revision else live()
        changes = classified(base.document, revision.document, Path(args.levels))
    except (DiffInputError, LevelsError) as exc:
        print(f"spec diff: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        sys.stdout.write(render.as_json(changes))
    elif args.format == "markdown":
        sys.stdout.write(render.markdown(changes, base.document, revision.document))
    else:
        print(f"spec diff: {base.label} → {revision.label}")
        sys.stdout.write(render.text(changes))
    breaking = sorted({c.id for c in changes if c.level is Level.BREAKING})
    if not breaking:
        return 0
    if not (_ours(args.base) and _ours(args.revision)):
        # Two documents of someone else's: no version policy of ours applies, breaking is the verdict.
        print(f"spec diff: breaking changes: {', '.join(breaking)}", file=sys.stderr)
        return 1
    if breaking_allowed(base.document, revision.document):
        return 0
    versions = f"{_version(base.document)} → {_version(revision.document)}"
    print(
        f"spec diff: breaking changes without a breaking version bump ({versions}): {', '.join(breaking)}",
        file=sys.stderr,
    )
    return 1


def _ours(spec: str | None) -> bool:
    """Whether a side names this project's document (the default, a git ref of it, or its file), the
    one the version policy governs."""
    if spec is None or (not Path(spec).exists() and ":" not in spec):
        return True  # the app, or `REF` alone: openapi/retrace.json at that ref
    if ":" in spec and not Path(spec).exists():
        return (REPO_ROOT / spec.split(":", 1)[1]).resolve() == DOCUMENT_PATH.resolve()
    return Path(spec).resolve() == DOCUMENT_PATH.resolve()


def _version(document: Json) -> str:
    return str(document.get("info", {}).get("version", "?"))


def _checks(args: argparse.Namespace) -> int:
    try:
        overrides = load_levels(Path(args.levels))
    except LevelsError as exc:
        print(f"spec checks: {exc}", file=sys.stderr)
        return 2
    for check in sorted(CHECKS.values(), key=lambda c: c.id):
        level = overrides.get(check.id, check.level) if check.id in overrides else check.level
        shown = level.value if level is not None else "none"
        mark = "*" if check.id in overrides else " "
        print(f"{check.id:<58} {shown:<8}{mark} {check.summary}")
    print(f"{len(CHECKS)} checks; * = set by {args.levels}")
    return 0


def add_diff_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="classify the changes between two OpenAPI documents (breaking / warning / info)",
        description="Each side is a file or a git ref (its openapi/retrace.json; REF:path for another "
        "file). Default: the committed document against the app's live one. Exit 1 when a change is "
        "breaking and info.version did not get a breaking bump, 2 when a side cannot be read.",
    )
    parser.add_argument("base", nargs="?", help="base: file or git ref (default: the committed document)")
    parser.add_argument("revision", nargs="?", help="revision: file or git ref (default: the live app)")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    parser.add_argument("--levels", default=str(LEVELS_PATH), help="the levels file (openapi/levels.toml)")
    parser.set_defaults(handler=_diff)
    checks = subparsers.add_parser("checks", help="list every check id with its level")
    checks.add_argument("--levels", default=str(LEVELS_PATH), help="the levels file (openapi/levels.toml)")
    checks.set_defaults(handler=_checks)


# The version policy in the spec guard -------------------------------------------------------------


@dataclass(frozen=True)
class PolicyResult:
    ok: bool
    lines: list[str]
    changes: list[Change]
    base: Side | None = None
    verdict: Verdict | None = None


def previous_ref(since: str | None = None) -> str | None:
    """The ref whose document the policy compares against (see docs/testing.md, "Version policy").

    `--since` or $LATTICE_SPEC_BASE when given; else where this branch left main (`git merge-base HEAD
    main`, or origin/main): a branch's API changes are judged together, against what main published.
    On main itself that is HEAD, so the pre-commit hook judges what is about to be committed.
    """
    chosen = since or os.environ.get(BASE_ENV)
    if chosen:
        return chosen
    for branch in MAIN_BRANCHES:
        if is_git_ref(branch):
            done = git("merge-base", "HEAD", branch)
            if done.returncode == 0 and done.stdout.strip():
                return done.stdout.strip()
    return "HEAD" if is_git_ref("HEAD") else None


def version_policy(revision: Json, since: str | None = None, repo: Path = REPO_ROOT) -> PolicyResult:
    ref = previous_ref(since)
    if ref is None:
        return PolicyResult(True, ["version policy skipped: not in a git checkout (no base to compare)"], [])
    if not is_git_ref(ref, repo):
        raise DiffInputError(f"the policy's base {ref!r} is not a git ref (set --since or ${BASE_ENV})")
    try:
        base = at_ref(ref, repo)
    except DiffInputError:
        return PolicyResult(True, [f"version policy skipped: {ref} has no {DOCUMENT_PATH.name} yet"], [])
    changes = classified(base.document, revision)
    try:
        verdict = judge(base.document, revision, changes)
    except PolicyError as exc:
        return PolicyResult(False, [f"version policy: {exc}"], changes, base)
    shown_ref = ref[:12] if len(ref) == 40 else ref
    lines = [f"version policy against {shown_ref} ({render.summary(changes)}): {verdict.message}"]
    if not verdict.ok:
        lines += [
            f"  {c.level.value} [{c.id}] {c.operation}: {c.text}"
            for c in changes
            if c.level is Level.BREAKING
        ]
        lines.append("bump VERSION in app/openapi.py, then `python -m tools.lattice spec --update`")
    return PolicyResult(verdict.ok, lines, changes, base, verdict)
