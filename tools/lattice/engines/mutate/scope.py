"""Which mutants a run makes: the lines a change touched, a seeded sample of `app/`, or one file."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.engines.mutate.operators import Mutation, mutations

# Alembic revisions run once, against an empty database: a mutant there is a different migration,
# which the chain check (not a test) catches.
_NOT_MUTATED = ("migrations",)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class ScopeError(Exception):
    """A scope the user asked for cannot be made (unknown ref, missing file): one line for them."""


@dataclass(frozen=True)
class Mutant:
    """A mutation of one file, named by a key that survives edits elsewhere in the file."""

    path: str  # relative to the project root, with forward slashes
    mutation: Mutation
    key: str

    @property
    def label(self) -> str:
        return f"{self.path}:{self.mutation.line} {self.mutation.operator}"

    def diff(self, source: str) -> str:
        """A unified diff of the lines the mutation changes."""
        import difflib

        mutated = self.mutation.apply(source)
        return "".join(
            difflib.unified_diff(
                source.splitlines(keepends=True),
                mutated.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
                n=0,
            )
        )


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise ScopeError(f"mutate: git {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def default_base(root: Path) -> str:
    """The merge-base with main: what a pull request changes. On main itself, the previous commit."""
    head = _git(root, "rev-parse", "HEAD").strip()
    for ref in ("origin/main", "main"):
        try:
            base = _git(root, "merge-base", "HEAD", ref).strip()
        except ScopeError:
            continue
        return base if base != head else "HEAD~1"
    return "HEAD~1"


def changed_lines(root: Path, base: str, package: str) -> dict[str, set[int]]:
    """Lines added or changed since `base` (the working tree included), per file of `package`."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except ScopeError:
        raise ScopeError(f"mutate: --base {base} is not a commit of this repository") from None
    out = _git(root, "diff", "-U0", "--no-color", "--no-ext-diff", base, "--", package)
    lines: dict[str, set[int]] = {}
    current: str | None = None
    for row in out.splitlines():
        if row.startswith("+++ "):
            current = row[6:] if row.startswith("+++ b/") else None
        elif current is not None and (hunk := _HUNK.match(row)):
            start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
            lines.setdefault(current, set()).update(range(start, start + count))
    return lines


def source_files(root: Path, package: str) -> list[str]:
    files = sorted(p.relative_to(root).as_posix() for p in (root / package).rglob("*.py"))
    return [f for f in files if not any(part in _NOT_MUTATED for part in Path(f).parts)]


def mutants_of(root: Path, path: str, lines: set[int] | None = None) -> list[Mutant]:
    source = (root / path).read_text()
    found = mutations(source, (lambda line: line in lines) if lines is not None else lambda _l: True)
    seen: Counter[str] = Counter()
    out = []
    for mutation in found:
        what = f"{path}|{mutation.scope}|{mutation.operator}|{mutation.original}|{mutation.replacement}"
        seen[what] += 1
        digest = hashlib.sha1(f"{what}|{seen[what]}".encode(), usedforsecurity=False).hexdigest()[:12]
        out.append(Mutant(path, mutation, digest))
    return out
