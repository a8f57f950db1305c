"""The foreign project's tree: a copy to run in, and what a run added, changed or removed there.

Every run works in a fresh copy of the project (the original cannot be written by it), and both the
copy and the original are compared file by file afterwards: anything added, changed or removed that
the config's `writes` does not allow is named, and the run fails.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

# Not part of a project's tree (environments, VCS data, caches): neither copied nor compared.
SKIPPED = (".git", ".hg", ".venv", "venv", ".nox", ".tox", "node_modules", "__pycache__", ".mypy_cache")

Snapshot = dict[str, tuple[int, int]]


def copy(source: Path, target: Path) -> Path:
    """`source` copied to `target` (modification times kept), without the SKIPPED folders."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED))
    return target


def snapshot(root: Path) -> Snapshot:
    """Each file's path (relative, POSIX), size and modification time: any write changes one."""
    files: Snapshot = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in names:
            path = Path(folder, name)
            stat = path.lstat()
            files[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def changes(before: Snapshot, after: Snapshot, allowed: Sequence[str] = ()) -> list[str]:
    """`added X` / `changed X` / `removed X` for each file not matching an `allowed` pattern."""
    found = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    found += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    found += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    return [entry for entry in found if not _allowed(entry.split(" ", 1)[1], allowed)]


def _allowed(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)
