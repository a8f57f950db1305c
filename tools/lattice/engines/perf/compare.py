"""Ratios (ours / anchor, same run) and a run's ratios against the accepted baseline's.

Raw figures track the machine's load (2-4x between two sessions on the shared development box); a ratio
of two figures measured a minute apart on the same load does not, so the regression gate compares
ratios. Which figure is divided by which is fixed here, under the names logs/perf.json carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.lattice.engines.perf import budgets

# ratio name, the wrk figure set divided by an anchor's, and which figure. Every operation is divided by
# both anchors: the floor (floor-get, the goals) and the tutorial-shaped reference (bare-get, the gates).
_ANCHORS = {"floor": "floor-get", "bare": "bare-get"}
_WRK_RATIOS = tuple(
    (f"{stem}_vs_{anchor}", op, key, anchor_op)
    for anchor, anchor_op in _ANCHORS.items()
    for stem, op, key in (
        ("get_p95", "marks-get", "p95_ms"),
        ("get_rps", "marks-get", "rps"),
        ("token_auth_p95", "token-auth", "p95_ms"),
        ("list_p95", "marks-list", "p95_ms"),
    )
)


def ratios(figures: dict[str, Any]) -> dict[str, float]:
    """Every ratio this run's figures allow (a benchmark that did not run leaves its ratio out)."""
    wrk = figures.get("wrk", {})
    out: dict[str, float] = {}
    for name, op, key, anchor_op in _WRK_RATIOS:
        anchor = wrk.get(anchor_op)
        if anchor and anchor[key] > 0 and op in wrk:
            out[name] = round(wrk[op][key] / anchor[key], 3)
    floor, bare = wrk.get("floor-get"), wrk.get("bare-get")
    if floor and bare and floor["p95_ms"] > 0:
        # How far the tutorial shape sits above the floor: what the old anchor hid.
        out["bare_p95_vs_floor"] = round(bare["p95_ms"] / floor["p95_ms"], 3)
    throughput = figures.get("throughput", {})
    if throughput.get("ingestion_jobs_s") and throughput.get("raw_update_jobs_s"):
        out["ingest_rate_vs_raw_actor"] = round(
            throughput["ingestion_jobs_s"] / throughput["raw_update_jobs_s"], 3
        )
    return out


@dataclass(frozen=True)
class Movement:
    ratio: str
    baseline: float
    now: float
    regressed: bool

    @property
    def change_pct(self) -> float:
        return (self.now - self.baseline) / self.baseline * 100 if self.baseline else 0.0


def regressed(name: str, baseline: float, now: float) -> bool:
    """Worse than the baseline beyond the noise margin, and outside the goal: a ratio that still meets
    its goal is no regression (a p95 ratio swings with the anchor's tail: 0.68-1.33 in three runs)."""
    goal, sense = budgets.RATIO_GOALS[name]
    if sense == "<=":
        return now > max(baseline * budgets.RATIO_NOISE, goal)
    return now < min(baseline / budgets.RATIO_NOISE, goal)


def compare(baseline: dict[str, float], now: dict[str, float]) -> list[Movement]:
    """Every ratio present in both."""
    return [
        Movement(name, baseline[name], value, regressed(name, baseline[name], value))
        for name, value in sorted(now.items())
        if name in baseline and name in budgets.RATIO_GOALS
    ]


def table(movements: list[Movement]) -> list[str]:
    lines = [f"{'ratio':<26} {'baseline':>9} {'now':>7} {'change':>8}  verdict"]
    for m in movements:
        verdict = "REGRESSED" if m.regressed else "ok"
        lines.append(f"{m.ratio:<26} {m.baseline:>9.2f} {m.now:>7.2f} {m.change_pct:>+7.0f}%  {verdict}")
    return lines


def ratio_table(now: dict[str, float], figures: dict[str, Any]) -> list[str]:
    """The end summary's one table: each ratio beside its goal, and the two figures it divides."""
    wrk = figures.get("wrk", {})
    throughput = figures.get("throughput", {})
    sources = {name: (op, key, anchor_op) for name, op, key, anchor_op in _WRK_RATIOS}
    lines = [f"  {'ratio (ours / anchor)':<26} {'value':>6} {'goal':>7}  {'met':<4} ours / anchor"]
    sections = (
        (
            "against the floor (tests/perf/floor_app.py): issue 30's goals, printed, not gated",
            budgets.FLOOR_GOALS,
        ),
        (
            "against the tutorial-shaped reference (tests/perf/bare_app.py): gated vs baseline",
            budgets.RATIO_GOALS,
        ),
    )
    for title, goals in sections:
        lines.append(f"  {title}")
        for name, (goal, sense) in goals.items():
            if name not in now:
                lines.append(f"  {name:<26} {'-':>6} {sense + format(goal, '.2f'):>7}  not measured")
                continue
            if name in sources:
                op, key, anchor_op = sources[name]
                unit = "ms" if key == "p95_ms" else "req/s"
                detail = f"{wrk[op][key]:.1f} / {wrk[anchor_op][key]:.1f} {unit} ({op} / {anchor_op})"
            else:
                ours, anchor = throughput["ingestion_jobs_s"], throughput["raw_update_jobs_s"]
                detail = f"{ours:.0f} / {anchor:.0f} jobs/s (retrace worker / raw UPDATE actor)"
            met = "yes" if budgets.goal_met(name, now[name]) else "NO"
            value = f"{now[name]:>6.2f} {sense + format(goal, '.2f'):>7}  {met:<4}"
            lines.append(f"  {name:<26} {value} {detail}")
    if "bare_p95_vs_floor" in now:
        lines.append(
            f"  {'bare_p95_vs_floor':<26} {now['bare_p95_vs_floor']:>6.2f}  (the reference above the floor)"
        )
    return lines
