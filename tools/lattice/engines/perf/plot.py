"""The history as a picture: one panel per operation (p50/p95/p99 per run), one for queue throughput."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from tools.lattice.engines.perf import budgets


def _label(record: dict[str, Any]) -> str:
    sha = (record.get("commit") or "-")[:7]
    return f"{record.get('timestamp', '')[5:16]}\n{sha}"


def plot_history(records: list[dict[str, Any]], out: Path, last: int = 30) -> Path:
    records = records[-last:]
    operations = sorted({op for r in records for op in r["figures"].get("latency", {})})
    panels = len(operations) + 1
    columns = 4
    rows = math.ceil(panels / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    x = list(range(len(records)))
    labels = [_label(r) for r in records]
    for ax, op in zip(axes.flat, operations, strict=False):
        for key, style in (("p50_ms", ":"), ("p95_ms", "-"), ("p99_ms", "--")):
            ys = [r["figures"].get("latency", {}).get(op, {}).get(key, math.nan) for r in records]
            ax.plot(x, ys, style, marker="o", markersize=3, label=key.removesuffix("_ms"))
        ax.axhline(budgets.P95_AIM_MS, color="green", linewidth=0.8, alpha=0.6)
        ax.axhline(budgets.P95_GATE_MS, color="red", linewidth=0.8, alpha=0.6)
        ax.set_title(op, fontsize=9)
        ax.set_ylabel("ms", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left")
    ax = axes.flat[len(operations)]
    for key in ("ingestion_jobs_s", "dramatiq_noop_jobs_s"):
        ys = [r["figures"].get("throughput", {}).get(key, math.nan) for r in records]
        ax.plot(x, ys, marker="o", markersize=3, label=key.removesuffix("_jobs_s"))
    ax.axhline(budgets.INGEST_AIM_JOBS_S, color="green", linewidth=0.8, alpha=0.6)
    ax.set_title("queue throughput (jobs/s)", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    for extra in list(axes.flat)[panels:]:
        extra.axis("off")
    for ax in list(axes.flat)[:panels]:
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle("Retrace perf history (green: aim, red: p95 gate)", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
