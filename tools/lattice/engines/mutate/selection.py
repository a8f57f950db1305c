"""Which mutants a run tries: by path, by key, every one, a sample, or the lines a change touched; the
equivalence filters (prefilter.py) applied before a sample is drawn."""

from __future__ import annotations

import random
from pathlib import Path

from tools.lattice.engines.mutate.prefilter import prefilter
from tools.lattice.engines.mutate.scope import (
    Mutant,
    ScopeError,
    changed_lines,
    default_base,
    mutants_of,
    source_files,
)


def select(
    root: Path,
    package: str,
    *,
    base: str | None = None,
    path: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    every: bool = False,
    keys: list[str] | None = None,
) -> tuple[list[Mutant], str, dict[str, list[Mutant]]]:
    """The mutants to run, a line saying how they were chosen, and those the equivalence filters
    (prefilter.py) removed before running, per rule. A sample is drawn from the mutants that pass the
    filters: N of them, not N minus what the filters took."""
    if path is not None:
        if not (root / path).is_file():
            raise ScopeError(f"mutate: --path {path}: no such file under {root}")
        chosen, removed = prefilter(root, mutants_of(root, Path(path).as_posix()))
        how = f"every mutant of {path}"
    elif keys is not None:
        wanted = set(keys)
        chosen = [m for f in source_files(root, package) for m in mutants_of(root, f) if m.key in wanted]
        if unknown := wanted - {m.key for m in chosen}:
            raise ScopeError(f"mutate: --keys: no mutant of {package}/ has key {', '.join(sorted(unknown))}")
        removed = {}
        how = f"the {len(chosen)} mutant(s) with the keys given"
    elif every:
        everything = [m for f in source_files(root, package) for m in mutants_of(root, f)]
        chosen, removed = prefilter(root, everything)
        how = f"every mutant of {package}/ ({len(chosen)} of {len(everything)} after the filters)"
    elif sample is not None:
        everything = [m for f in source_files(root, package) for m in mutants_of(root, f)]
        shuffled = random.Random(seed).sample(everything, len(everything))
        chosen, removed = prefilter(root, shuffled, limit=sample)
        chosen.sort(key=lambda m: (m.path, m.mutation.start))
        how = f"a sample of {len(chosen)} of {len(everything)} mutants of {package}/ (seed {seed})"
    else:
        ref = base or default_base(root)
        changed = changed_lines(root, ref, package)
        files = set(source_files(root, package))
        chosen, removed = prefilter(
            root,
            [m for f, lines in sorted(changed.items()) if f in files for m in mutants_of(root, f, lines)],
        )
        touched = sum(len(v) for f, v in changed.items() if f in files)
        how = f"the {touched} line(s) of {package}/ changed since {ref}"
    return chosen, how, removed
