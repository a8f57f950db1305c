"""The peer gate's judgement: unlisted failures and stale entries fail it; every entry has a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.lattice.engines.peer.gate import (
    ALLOWLIST,
    Allowed,
    AllowlistError,
    failures,
    judge,
    load_allowlist,
)

# The shape schemathesis 4.32's `--report junit` writes (schemathesis/reporting/junitxml.py): one testcase
# per operation, a failure's message the codes of its checks.
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites errors="1" failures="3" skipped="0" tests="5" time="3.2">
  <testsuite name="schemathesis" hostname="h" errors="1" failures="3" skipped="0" tests="5" time="3.2">
    <testcase name="GET /v1/marks" time="1.0">
      <failure type="failure" message="ST202">1. Test Case ID: r41cEJ - ST202 Schema-valid request
      rejected</failure>
    </testcase>
    <testcase name="PATCH /v1/marks/{mark_id}" time="1.0">
      <failure type="failure" message="ST202, ST110">- ST202 ... - ST110 ...</failure>
    </testcase>
    <testcase name="GET /v1/me" time="0.5" />
    <testcase name="POST /v1/tokens" time="0.1">
      <error type="error" message="Network Error">Connection refused</error>
    </testcase>
    <testcase name="Stateful tests" time="0.6">
      <failure type="failure" message="ST302">- ST302 Created resource not found</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "peer.xml"
    path.write_text(JUNIT)
    return path


def test_failures_are_read_per_operation_from_the_junit_xml(junit: Path) -> None:
    assert failures(junit) == {
        ("ST202", "GET /v1/marks"),
        ("ST202", "PATCH /v1/marks/{mark_id}"),
        ("ST110", "PATCH /v1/marks/{mark_id}"),
        ("error", "POST /v1/tokens"),
        ("ST302", "Stateful tests"),
    }


def test_a_missing_or_broken_junit_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cut.xml").write_text("<testsuites><testsuite>")
    for path in (tmp_path / "none.xml", tmp_path / "cut.xml"):
        with pytest.raises(AllowlistError, match="cannot read schemathesis' JUnit XML") as raised:
            failures(path)
        assert "\n" not in str(raised.value)


def test_unlisted_failures_and_stale_entries_fail_the_gate(junit: Path) -> None:
    allowed = [
        Allowed("ST202", "GET /v1/marks", "opaque cursor"),
        Allowed("ST201", "POST /v1/tokens", "fixed since"),
        Allowed("ST302", "Stateful tests", "inference", sometimes=True),
        Allowed("ST110", "Stateful tests", "random", sometimes=True),
    ]
    verdict = judge(failures(junit), allowed)
    assert verdict.unlisted == [
        ("ST110", "PATCH /v1/marks/{mark_id}"),
        ("ST202", "PATCH /v1/marks/{mark_id}"),
        ("error", "POST /v1/tokens"),
    ]
    assert [(e.check, e.operation) for e in verdict.stale] == [("ST201", "POST /v1/tokens")]
    assert verdict.allowlisted == [("ST202", "GET /v1/marks"), ("ST302", "Stateful tests")]
    assert not verdict.passed


def test_a_run_with_only_listed_failures_passes() -> None:
    found = {("ST202", "GET /v1/marks")}
    assert judge(found, [Allowed("ST202", "GET /v1/marks", "opaque cursor")]).passed


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[[allow]]\ncheck = "ST202"\noperation = "GET /v1/marks"\n', "entry 1 lacks reason"),
        ('[[allow]]\ncheck = "ST202"\nreason = "r"\n', "entry 1 lacks operation"),
        ('[[allow]]\ncheck = "ST1"\noperation = "o"\nreason = "r"\nsometimes = "yes"\n', "true or false"),
        ("[[allow]\n", "cannot read"),
    ],
)
def test_a_bad_allowlist_is_one_line(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "allow.toml"
    path.write_text(body)
    with pytest.raises(AllowlistError) as raised:
        load_allowlist(path)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_committed_allowlist_gives_every_entry_a_reason() -> None:
    entries = load_allowlist(Path(__file__).resolve().parents[2] / ALLOWLIST)
    assert entries
    assert all(len(entry.reason) > 40 for entry in entries)


def test_our_figures_are_the_last_runs_workers_added_up(tmp_path: Path) -> None:
    from tools.lattice.engines.peer.command import ours

    lines = [
        {
            "run": "old",
            "worker": "gw0",
            "cases": 5,
            "failures": 1,
            "case_seconds": 1.0,
            "session_seconds": 2.0,
        },
        {
            "run": "new",
            "worker": "gw0",
            "cases": 100,
            "failures": 0,
            "case_seconds": 1.0,
            "session_seconds": 4.0,
        },
        {
            "run": "new",
            "worker": "gw1",
            "cases": 60,
            "failures": 2,
            "case_seconds": 1.0,
            "session_seconds": 5.0,
        },
    ]
    (tmp_path / "contract-cases.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    figures = ours(tmp_path)
    assert figures is not None
    assert (figures["run"], figures["workers"], figures["cases"], figures["failures"]) == ("new", 2, 160, 2)
    assert figures["cases_per_s_wall"] == 160 / 5.0  # the slowest worker's wall time
    assert ours(tmp_path / "nowhere") is None
