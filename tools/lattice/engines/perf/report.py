"""The summary table a perf run ends with: every figure beside its gate and aim."""

from __future__ import annotations

from typing import Any

from tools.lattice.engines.perf import budgets, capacity
from tools.lattice.engines.perf.compare import ratio_table, ratios
from tools.lattice.engines.perf.profile import profile_table


def summary_table(figures: dict[str, Any]) -> list[str]:
    lines = ["ratios, ours / anchor in this run (the regression gate compares these with the baseline's)"]
    lines.extend(ratio_table(figures.get("ratios") or ratios(figures), figures))
    gate = figures.get("gate", {}).get("p95_gate_ms", budgets.P95_GATE_MS)
    wrk = figures.get("wrk", {})
    if wrk:
        lines.append(
            "wrk, 2 threads, 8 connections, closed loop "
            "(wrk CPU: the generator's share of the machine; busy: the machine's; server: the server's)"
        )
        lines.append(
            f"  {'operation':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} "
            f"{'wrk CPU':>8} {'busy':>6} {'server':>7}"
        )
        for op, f in wrk.items():
            server = "-" if f.get("server_cpu_share") is None else f"{f['server_cpu_share']:.0%}"
            lines.append(
                f"  {op:<22} {f['requests']:>6.0f} {f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} "
                f"{f['p99_ms']:>8.1f} {f['rps']:>7.0f} {f['wrk_cpu_share']:>8.0%} "
                f"{f['machine_busy']:>6.0%} {server:>7}"
            )
    lines += [
        f"latency, {budgets.CLIENTS} concurrent Python clients "
        f"(gate p95 <= {gate:.0f} ms: {budgets.P95_GATE_MS:.0f} ms load-scaled by the bare anchor; "
        f"aim <= {budgets.P95_AIM_MS:.0f} ms)",
        f"  {'operation':<22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}  verdict",
    ]
    for op, f in figures.get("latency", {}).items():
        lines.append(
            f"  {op:<22} {f['n']:>5} {f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} {f['p99_ms']:>8.1f} "
            f"{f['rps']:>7.0f}  {budgets.p95_verdict(f['p95_ms'], gate)}"
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
        raw = throughput.get("raw_update_jobs_s")
        if raw is not None:
            lines.append(f"  {'raw UPDATE actor, same threads':<34} {raw:>8.0f} jobs/s")
        noop = throughput.get("dramatiq_noop_jobs_s")
        if noop is not None:
            lines.append(f"  {'dramatiq no-op, same threads':<34} {noop:>8.0f} jobs/s")
        if ingest is not None and noop:
            lines.append(f"  {'ingestion / no-op':<34} {ingest / noop:>8.2f}")
        for key in ("threads", "prefetch", "messages"):
            if key in throughput:
                lines.append(f"  {key:<34} {throughput[key]:>8}")
    lines.extend(capacity.table(figures.get("capacity") or capacity.model(figures)))
    lines.extend(profile_table(figures.get("profile", {})))
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
