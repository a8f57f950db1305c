"""The summary table a perf run ends with: every figure beside its gate and aim."""

from __future__ import annotations

from typing import Any

from tools.lattice.perf import budgets


def summary_table(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"latency, {budgets.CLIENTS} concurrent clients "
        f"(gate p95 <= {budgets.P95_GATE_MS:.0f} ms, aim <= {budgets.P95_AIM_MS:.0f} ms)",
        f"  {'operation':<22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}  verdict",
    ]
    for op, f in figures.get("latency", {}).items():
        lines.append(
            f"  {op:<22} {f['n']:>5} {f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} {f['p99_ms']:>8.1f} "
            f"{f['rps']:>7.0f}  {budgets.p95_verdict(f['p95_ms'])}"
        )
    throughput = figures.get("throughput", {})
    if throughput:
        lines.append("queue throughput")
        ingest = throughput.get("ingestion_jobs_s")
        if ingest is not None:
            lines.append(
                f"  {'ingestion (retrace worker)':<34} {ingest:>8.0f} jobs/s  "
                f"(aim >= {budgets.INGEST_AIM_JOBS_S:.0f}: {budgets.ingest_verdict(ingest)})"
            )
        noop = throughput.get("dramatiq_noop_jobs_s")
        if noop is not None:
            lines.append(f"  {'dramatiq no-op, same threads':<34} {noop:>8.0f} jobs/s")
        if ingest is not None and noop:
            lines.append(f"  {'ingestion / no-op':<34} {ingest / noop:>8.2f}")
        for key in ("threads", "prefetch", "messages"):
            if key in throughput:
                lines.append(f"  {key:<34} {throughput[key]:>8}")
    costs = figures.get("lattice", {})
    if costs:
        lines.append("lattice costs")
        for name, value in costs.items():
            if isinstance(value, list):  # a bench module's own printout, line by line
                lines.append(f"  {name}:")
                lines.extend(f"    {line.strip()}" for line in value)
            else:
                lines.append(f"  {name:<34} {value}")
    return lines
