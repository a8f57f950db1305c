"""`spec diff` against oasdiff's and openapi-diff's own test pairs (tests/lattice/specdiff_conformance/).

Every pair's verdict (breaking or not) matches the tool's, or the pair is in differences.toml with the
reason `spec diff` decides otherwise; an entry there that now agrees is stale and fails too.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lattice.conftest import Ran
from tests.lattice.specdiff_conformance import (
    DIFFERENCES_PATH,
    TOOLS,
    cases,
    differences,
    score,
    verdict,
)
from tools.lattice.chain.document import REPO_ROOT
from tools.lattice.chain.specdiff.oasdiff import oasdiff_id, oasdiff_ids

ALL = [case for tool in TOOLS for case in cases(tool)]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_pair_agrees_or_is_a_documented_difference(tool: str) -> None:
    known = differences()
    wrong, stale = [], []
    for case in cases(tool):
        agrees = verdict(case) == case.expected
        if not agrees and case.key not in known:
            wrong.append(f"{case.key}: {tool} says {case.expected}, spec diff {verdict(case)}")
        if agrees and case.key in known:
            stale.append(f"{case.key} now agrees: remove it from {DIFFERENCES_PATH.name}")
    assert not wrong, "\n".join(wrong)
    assert not stale, "\n".join(stale)


@pytest.mark.parametrize("tool", TOOLS)
def test_agreement_and_recall_meet_the_floor(tool: str) -> None:
    figures = score(tool)
    assert figures.pairs >= 80
    assert figures.agreement >= 0.95
    assert figures.recall >= 0.95


def test_every_difference_names_a_pair_that_exists_and_docs_list_its_topic() -> None:
    names = {case.key for case in ALL}
    assert set(differences()) <= names, sorted(set(differences()) - names)
    docs = (REPO_ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    for entry in tomllib.loads(DIFFERENCES_PATH.read_text(encoding="utf-8"))["difference"]:
        assert entry["topic"] in docs, f"docs/testing.md does not list the difference {entry['topic']!r}"


def test_each_side_of_every_pair_is_vendored_with_the_license() -> None:
    for case in ALL:
        assert case.base.is_file(), case.key
        assert case.revision.is_file(), case.key
    for tool in TOOLS:
        assert (Path(__file__).parent / "specdiff_conformance" / tool / "LICENSE").is_file()


def test_the_oasdiff_id_list_is_the_vendored_one() -> None:
    table = json.loads((REPO_ROOT / "tests/lattice/specdiff_conformance/oasdiff/cases.json").read_text())
    assert oasdiff_ids() == frozenset(table["check_ids"])


BASE_YAML = """
openapi: 3.1.0
info: {title: T, version: 1.0.0}
paths:
  /things:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {type: string, example: 2024-01-01}
        404: {description: missing}
"""


def test_yaml_sides_and_json_output_name_the_oasdiff_id(tmp_path: Path, cli: Callable[..., Ran]) -> None:
    base, revision = tmp_path / "base.yaml", tmp_path / "revision.yml"
    base.write_text(BASE_YAML)
    revision.write_text(BASE_YAML.replace("        200:", "        201:"))
    done = cli(str(base), str(revision), "--format", "json")
    changes = {c["id"]: c["oasdiff_id"] for c in json.loads(done.stdout)}
    assert changes == {
        "response-success-status-removed": "response-success-status-removed",
        "response-success-status-added": "response-success-status-added",
    }
    assert oasdiff_id("request-path-parameter-renamed") is None  # spec diff's own check: no counterpart


def test_a_side_that_is_neither_json_nor_yaml_is_one_line(tmp_path: Path, cli: Callable[..., Ran]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("paths: [unclosed\n")
    done = cli(str(bad), str(bad))
    assert done.returncode == 2
    assert "is neither JSON nor valid YAML" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
