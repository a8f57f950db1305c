"""The Grafana dashboard (observability/grafana/lattice.json), built from the fields the telemetry has.

Shipping: a log shipper (promtail, Alloy, Vector) sends each suite's logs/<suite>.json lines with the
label job="lattice" and perf/history.jsonl lines with job="lattice-perf", unchanged. The panels
parse them with LogQL's `json` stage, so every field a panel names must exist in those lines:
`tests/lattice/test_report.py` checks the test panels against `TestRecord`'s fields and every perf
path against the newest line of perf/history.jsonl.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DASHBOARD_FILE = Path("observability/grafana/lattice.json")
DATASOURCE = {"type": "loki", "uid": "${loki}"}


@dataclass(frozen=True)
class TestPanel:
    title: str
    expr: str
    fields: tuple[str, ...]  # TestRecord fields the query reads
    unit: str = "short"


@dataclass(frozen=True)
class PerfPanel:
    title: str
    path: tuple[str, ...]  # keys into a perf history line
    unit: str

    @property
    def selector(self) -> str:
        head, *rest = self.path
        return head + "".join(f'[\\"{key}\\"]' if "-" in key else f".{key}" for key in rest)


TEST_PANELS = [
    TestPanel(
        "Tests by outcome",
        'sum by (outcome) (count_over_time({job="lattice"} | json | __error__="" [$__interval]))',
        ("outcome",),
    ),
    TestPanel(
        "Failures by suite",
        'sum by (suite) (count_over_time({job="lattice"} | json | outcome=~"failed|error" [$__interval]))',
        ("suite", "outcome"),
    ),
    TestPanel(
        "Test time by suite (s)",
        'sum by (suite) (sum_over_time({job="lattice"} | json | unwrap duration_s [$__interval]))',
        ("suite", "duration_s"),
        "s",
    ),
    TestPanel(
        "p95 test duration by suite and shard",
        'quantile_over_time(0.95, {job="lattice"} | json | unwrap duration_s [$__interval])'
        " by (suite, shard)",
        ("suite", "shard", "duration_s"),
        "s",
    ),
    TestPanel(
        "Tests per commit, provider and Python",
        'sum by (commit, provider, python) (count_over_time({job="lattice"} | json [$__interval]))',
        ("commit", "provider", "python"),
    ),
]

PERF_PANELS = [
    PerfPanel("GET /v1/marks/{id} p95 (ms)", ("figures", "latency", "marks-get", "p95_ms"), "ms"),
    PerfPanel("list marks p95 (ms)", ("figures", "latency", "marks-list", "p95_ms"), "ms"),
    PerfPanel("token auth p95 (ms)", ("figures", "latency", "token-auth", "p95_ms"), "ms"),
    PerfPanel("ingestion jobs/s", ("figures", "throughput", "ingestion_jobs_s"), "short"),
    PerfPanel("GET p95 ÷ bare anchor", ("ratios", "get_p95_vs_bare"), "short"),
    PerfPanel("GET req/s ÷ bare anchor", ("ratios", "get_rps_vs_bare"), "short"),
    PerfPanel("list p95 ÷ bare anchor", ("ratios", "list_p95_vs_bare"), "short"),
    PerfPanel("token auth p95 ÷ bare anchor", ("ratios", "token_auth_p95_vs_bare"), "short"),
    PerfPanel("ingestion ÷ raw actor", ("ratios", "ingest_rate_vs_raw_actor"), "short"),
]


def _panel(n: int, title: str, expr: str, unit: str) -> dict[str, Any]:
    return {
        "id": n + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (n % 2), "y": 8 * (n // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": expr, "queryType": "range"}],
    }


def perf_expr(panel: PerfPanel) -> str:
    return (
        f'max_over_time({{job="lattice-perf"}} | json value="{panel.selector}", commit="commit" '
        f"| unwrap value [$__interval]) by (commit)"
    )


def build() -> dict[str, Any]:
    panels = [_panel(i, p.title, p.expr, p.unit) for i, p in enumerate(TEST_PANELS)]
    offset = len(panels)
    panels += [_panel(offset + i, p.title, perf_expr(p), p.unit) for i, p in enumerate(PERF_PANELS)]
    return {
        "title": "Retrace lattice",
        "uid": "retrace-lattice",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-30d", "to": "now"},
        "tags": ["retrace", "lattice", "tests"],
        "templating": {
            "list": [{"name": "loki", "type": "datasource", "query": "loki", "label": "Loki data source"}]
        },
        "panels": panels,
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"
