"""The merged report, alerts and the dashboard: pure logic on small synthetic logs directories
(plus one `report merge` subprocess). The real thing runs in CI: two shards merged into one report."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.lattice.plugin.telemetry import TestRecord
from tools.lattice.report.alerts import alerts, summary_markdown
from tools.lattice.report.collect import collect
from tools.lattice.report.dashboard import DASHBOARD_FILE, PERF_PANELS, TEST_PANELS, render
from tools.lattice.report.merge import merge

REPO = Path(__file__).resolve().parents[2]


def _record(run: str, test: str, outcome: str = "passed", shard: str = "", duration: float = 0.5) -> str:
    record = TestRecord(
        run, "gw0", "integration", test, outcome, duration, "embedded", "abc123", shard, "3.11"
    )
    return record.as_json()


JUNIT = """<?xml version="1.0"?><testsuites><testsuite name="pytest">
<testcase classname="tests.integration.test_b" name="test_two"><failure message="assert 1 == 2">
E   assert 1 == 2
Falsifying example: test_two(x=1)
</failure></testcase></testsuite></testsuites>"""


def _logs(tmp_path: Path) -> list[Path]:
    one, two = tmp_path / "shard1", tmp_path / "shard2"
    one.mkdir()
    two.mkdir()
    (one / "integration.json").write_text(
        _record("6b000001aaaa", "tests/integration/test_a.py::test_one", shard="1/2", duration=2.0) + "\n"
    )
    (two / "integration.json").write_text(
        "\n".join(
            [
                _record("6b000002bbbb", "tests/integration/test_b.py::test_two", "failed", "2/2", 1.0),
                _record("6b000002bbbb", "tests/integration/test_a.py::test_one", shard="2/2"),
                '{"run":"6b000002bbbb","suite":"integration","figures":{"batches":3}}',
            ]
        )
        + "\n"
    )
    (two / "integration.xml").write_text(JUNIT)
    perf = _record("6b000002cccc", "tests/perf/perf_queue.py::test_ingestion_rate", "failed", "", 3.0)
    run_figures = {"record": "perf-run", "ratios": {"get_p95_vs_bare": 0.9}, "figures": {}}
    (two / "perf.json").write_text(
        perf.replace('"integration"', '"perf"') + "\n" + json.dumps(run_figures) + "\n"
    )
    return [one, two]


def test_merge_counts_each_test_once_and_flags_repeats(tmp_path: Path) -> None:
    report = merge(collect(_logs(tmp_path)))
    assert report["tests"] == 3
    assert report["outcomes"] == {"passed": 1, "failed": 2}
    assert report["figures"]["perf"][0]["ratios"] == {"get_p95_vs_bare": 0.9}
    assert report["repeats"] == [
        {
            "suite": "integration (embedded, py3.11)",
            "test": "tests/integration/test_a.py::test_one",
            "seen": ["6b000001aaaa shard 1/2", "6b000002bbbb shard 2/2"],
        }
    ]
    suite = report["suites"]["integration (embedded, py3.11)"]
    assert suite["shards"] == {"2/2": {"tests": 2, "time_s": 1.5}}
    failure, no_junit = report["failures"]
    assert failure["test"] == "tests/integration/test_b.py::test_two"
    assert no_junit == {
        **no_junit,
        "test": "tests/perf/perf_queue.py::test_ingestion_rate",
        "reproduction": "",
    }
    assert "Falsifying example: test_two(x=1)" in failure["reproduction"]
    assert report["figures"]["suites"][0]["figures"] == {"batches": 3}


def test_alerts_name_failures_and_regressions_as_annotations(tmp_path: Path) -> None:
    report = merge(collect(_logs(tmp_path)))
    found = alerts(report)
    kinds = sorted(a.kind for a in found)
    assert kinds == ["failure", "queue"]  # test_b's JUnit failure; the perf suite's failed queue gate
    assert all(a.annotation().startswith("::error title=") for a in found)
    assert "%0A" in next(a for a in found if a.kind == "failure").annotation()  # one line, newlines escaped
    drift = {
        **report,
        "failures": [{"test": "tests/contract/test_chain.py::test_x", "message": "m", "reproduction": ""}],
    }
    assert [a.kind for a in alerts({**drift, "figures": {}})] == ["schema-drift"]
    assert "2 alert(s)" in summary_markdown(report, found)


@pytest.mark.parametrize("passed", [True, False])
def test_the_peer_alerts_through_its_gate_not_through_schemathesis_junit(
    tmp_path: Path, passed: bool
) -> None:
    # schemathesis' JUnit lists allowlisted failures too; only the gate's verdict (peer.json) counts.
    (tmp_path / "peer.xml").write_text(JUNIT.replace("tests.integration.test_b", "GET /v1/marks"))
    (tmp_path / "peer.json").write_text(json.dumps({"cases": 900, "allowlisted": 1, "passed": passed}))
    report = merge(collect([tmp_path]))
    assert report["failures"] == []
    assert [a.kind for a in alerts(report)] == ([] if passed else ["contract"])


def test_report_merge_command_writes_json_and_a_static_page(tmp_path: Path) -> None:
    dirs = _logs(tmp_path)
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "tools.lattice", "report", "merge", *map(str, dirs), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "1 test(s) recorded more than once" in done.stdout
    page = (out / "index.html").read_text()
    assert "<svg" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    missing = subprocess.run(
        [sys.executable, "-m", "tools.lattice", "report", "merge", str(tmp_path / "nope")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stdout.strip().count("\n") == 0
    assert "no directory" in missing.stdout


def test_the_dashboard_reads_only_fields_the_telemetry_has() -> None:
    record_fields = {f.name for f in dataclasses.fields(TestRecord)}
    for panel in TEST_PANELS:
        assert set(panel.fields) <= record_fields, panel.title
        named = set(re.findall(r"by \(([^)]*)\)", panel.expr))
        for group in named:
            assert {g.strip() for g in group.split(",")} <= record_fields, panel.title
        assert set(re.findall(r"unwrap (\w+)", panel.expr)) <= record_fields
    newest = json.loads((REPO / "perf/history.jsonl").read_text().splitlines()[-1])
    for perf in PERF_PANELS:
        value: object = newest
        for key in perf.path:
            assert isinstance(value, dict), perf.title
            assert key in value, f"{perf.title}: {key} not in perf history"
            value = value[key]
        assert isinstance(value, (int, float)), perf.title
    assert (REPO / DASHBOARD_FILE).read_text() == render(), "run: python -m tools.lattice report dashboard"
