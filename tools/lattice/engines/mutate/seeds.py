"""Which sample a run draws, and the record of every run's score.

A sample's seed comes from the commit under test unless one is given: each commit meets mutants
nobody picked, so a suite cannot be tuned to one fixed sample (a seed you study is a seed you
overfit), and the same commit always draws the same sample, so a run can be repeated. `--seed
commit:2` draws another sample of the same commit; `--seed 7` an exact one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

HISTORY = Path("logs/mutate-history.jsonl")


class SeedError(ValueError):
    pass


def head(root: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def resolve(root: Path, spec: str | None) -> tuple[int, str]:
    """The seed and where it came from: an integer as given, or `commit[:K]` (the default): the
    commit's hash, with round K mixed in; outside a repository, the clock."""
    spec = (spec or "commit").strip()
    if spec.lstrip("-").isdigit():
        return int(spec), "given"
    name, _, round_text = spec.partition(":")
    if name != "commit" or (round_text and not round_text.isdigit()):
        raise SeedError(f"mutate: --seed {spec}: give an integer, `commit` or `commit:K` (K = 0, 1, 2, ...)")
    commit = head(root)
    if commit is None:
        now = time.time_ns()
        return now % 2**32, "the clock (no git commit here)"
    material = commit if not round_text or round_text == "0" else f"{commit}:{round_text}"
    seed = int(hashlib.sha256(material.encode()).hexdigest()[:8], 16)
    return seed, f"commit {commit[:12]}" + (f" round {round_text}" if round_text not in ("", "0") else "")


def append_history(root: Path, summary: dict[str, Any]) -> None:
    """One line per finished run: when, which commit, how chosen, the score and the counts."""
    row = {
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": head(root),
        "scope": summary.get("scope"),
        "seed": summary.get("seed"),
        "mutants": summary.get("mutants"),
        "counts": summary.get("counts"),
        "score": summary.get("score"),
        "mutants_per_s": summary.get("mutants_per_s"),
    }
    path = root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(row) + "\n")


def history(root: Path) -> list[dict[str, Any]]:
    path = root / HISTORY
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash is not a run
    return rows


def history_line(rows: list[dict[str, Any]], last: int = 6) -> str | None:
    """The scores of the last sampled runs, oldest first: a drop shows."""
    scored = [
        r for r in rows if str(r.get("scope", "")).startswith("a sample") and r.get("score") is not None
    ][-last:]
    if not scored:
        return None
    return "history (sampled runs): " + " · ".join(
        f"{r['score']:.1%} ({(r.get('commit') or '?')[:7]}, seed {r['seed']})" for r in scored
    )
