"""A static page of the merged report: no script, no network; the perf history as an inline SVG."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]


def history_series(history: Path) -> dict[str, list[float]]:
    """p95 (ms) per operation over the recorded perf runs, oldest first."""
    series: dict[str, list[float]] = {}
    if not history.is_file():
        return series
    rows = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    for i, row in enumerate(rows):
        for op, figures in (row.get("figures", {}).get("latency") or {}).items():
            if isinstance(figures, dict) and "p95_ms" in figures:
                series.setdefault(op, [float("nan")] * i).append(float(figures["p95_ms"]))
        for values in series.values():
            values.extend([float("nan")] * (i + 1 - len(values)))
    return series


def svg_plot(series: dict[str, list[float]], width: int = 760, height: int = 280) -> str:
    points = [v for values in series.values() for v in values if v == v]
    if not points:
        return "<p>No perf history yet (<code>nox -s perf</code> records it).</p>"
    top = max(points) * 1.1
    runs = max(len(v) for v in series.values())
    left, bottom = 50, 30

    def xy(i: int, v: float) -> str:
        x = left + (width - left - 10) * (i / max(runs - 1, 1))
        y = (height - bottom) - (height - bottom - 10) * (v / top)
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20 * len(series)}" '
        'role="img" aria-label="p95 per operation over perf runs">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{height - bottom}" stroke="#333"/>',
        f'<text x="4" y="16" font-size="11">{top:.0f} ms</text>',
        f'<text x="4" y="{height - bottom}" font-size="11">0</text>',
        f'<text x="{left}" y="{height - 8}" font-size="11">runs, oldest → newest ({runs})</text>',
    ]
    for n, (op, values) in enumerate(sorted(series.items())):
        colour = _PALETTE[n % len(_PALETTE)]
        path = " ".join(xy(i, v) for i, v in enumerate(values) if v == v)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        y = height + 14 + 20 * n
        parts.append(f'<rect x="{left}" y="{y - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{left + 18}" y="{y}" font-size="12">{html.escape(op)} p95</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(report: dict[str, Any], history: Path) -> str:
    suites = [
        [
            name,
            s["tests"],
            ", ".join(f"{n} {o}" for o, n in sorted(s["outcomes"].items())),
            s["time_s"],
            " · ".join(f"{k}: {v['tests']} / {v['time_s']} s" for k, v in s["shards"].items()),
            s["shard_balance"] or "-",
        ]
        for name, s in report["suites"].items()
    ]
    sections = [
        f"<h1>Lattice report</h1><p>{report['tests']} tests, "
        + ", ".join(f"{n} {o}" for o, n in sorted(report["outcomes"].items()))
        + f"; {report['time_s']} s of test time; commits "
        + (", ".join(c[:10] for c in report["commits"]) or "-")
        + "</p>",
        "<h2>Suites</h2>"
        + _table(["suite", "tests", "outcomes", "time s", "shards (tests / time)", "balance"], suites),
        "<h2>Slowest tests</h2>"
        + _table(
            ["s", "suite", "shard", "test"],
            [[r["duration_s"], r["suite"], r["shard"], r["test"]] for r in report["slowest"]],
        ),
        "<h2>Failures</h2>"
        + (
            _table(
                ["test", "message", "reproduction"],
                [[f["test"], f["message"], f["reproduction"]] for f in report["failures"]],
            )
            if report["failures"]
            else "<p>None.</p>"
        ),
        "<h2>Tests recorded more than once</h2>"
        + (
            _table(
                ["suite", "test", "seen"],
                [[r["suite"], r["test"], "; ".join(r["seen"])] for r in report["repeats"]],
            )
            if report["repeats"]
            else "<p>None: every test appears once.</p>"
        ),
        "<h2>Perf history</h2>" + svg_plot(history_series(history)),
    ]
    style = (
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Lattice report</title>"
        f"<style>{style}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )
