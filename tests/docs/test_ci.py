"""CI as documented is CI as run: README.md and docs/ci.md against noxfile.py's sessions and tags,
.github/workflows/lattice.yml and .ci/run."""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml

from tests.docs.commands import default_sessions, sessions
from tests.docs.pages import ROOT, commands

README = ROOT / "README.md"
CI_PAGE = ROOT / "docs" / "ci.md"
WORKFLOW = ROOT / ".github" / "workflows" / "lattice.yml"
CI_RUN = ROOT / ".ci" / "run"
_BACKTICKED = re.compile(r"`([^`]+)`")


def _nox_sessions(line: str, matrix: dict[str, Any] | None = None) -> set[str]:
    """The sessions a `nox ...` command line runs (the default set for a bare `nox`)."""
    words = shlex.split(line.replace("${{ matrix.suite }}", "MATRIX_SUITE"), comments=True)
    if "nox" not in words:
        return set()
    args = words[words.index("nox") + 1 :]
    args = args[: args.index("--")] if "--" in args else args
    if "-s" not in args:
        return set(default_sessions()) if not any(a.startswith("-") for a in args) else set()
    named = []
    for word in args[args.index("-s") + 1 :]:
        if word.startswith("-"):
            break
        named.append(word)
    found = set(named)
    if "MATRIX_SUITE" in found:
        found.remove("MATRIX_SUITE")
        found |= set((matrix or {}).get("suite", []))
    return found


def ci_run_sessions() -> set[str]:
    found: set[str] = set()
    for line in CI_RUN.read_text().replace("\\\n", " ").splitlines():
        stripped = line.strip()
        if stripped.startswith(("#", "echo")) or "nox" not in stripped:
            continue
        if stripped.startswith("trap"):
            continue
        found |= _nox_sessions(stripped[stripped.index("nox") :])
    return found


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def workflow_sessions() -> dict[str, set[str]]:
    """Each job's sessions, the matrix's suites put in."""
    out = {}
    for name, job in workflow()["jobs"].items():
        matrix = job.get("strategy", {}).get("matrix", {})
        out[name] = set().union(
            *(_nox_sessions(step["run"], matrix) for step in job.get("steps", []) if "run" in step)
        )
    return out


def _row(page: str, first_cell: str) -> str:
    for line in page.splitlines():
        if line.startswith(f"| {first_cell} |"):
            return line
    raise AssertionError(f"no table row starting `{first_cell}`")


def _named(text: str) -> set[str]:
    """Session names a piece of prose names in backticks (`lint`, `nox -s spec gen`)."""
    known = sessions()
    words = {w for span in _BACKTICKED.findall(text) for w in span.split()}
    return words & set(known)


def test_the_readme_shows_two_first_commands() -> None:
    first = [c.text for c in commands(README)][:2]
    assert first == ["nox -s serve", "nox"], f"README.md's first commands are {first}, not serve and nox"
    block = README.read_text().split("## Two commands", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    assert block.count("$ ") == 2, "README.md's 'Two commands' block shows more than two commands"


def test_every_session_is_in_the_readme_table() -> None:
    table = README.read_text().split("## Sessions", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `nox")]
    listed = {m for row in rows for m in re.findall(r"nox -s ([\w-]+)", row)}
    missing = sorted(set(sessions()) - listed)
    assert not missing, f"README.md's session table has no row for: {missing}"
    defaults = _named(_row(table, "`nox`").split("|")[2])
    assert defaults == set(default_sessions())


def test_the_ci_tag_is_what_the_readme_and_ci_page_say() -> None:
    tagged = {name for name, s in sessions().items() if "ci" in s.tags}
    also = ci_run_sessions() - tagged
    assert tagged <= ci_run_sessions(), (
        f".ci/run skips sessions tagged ci: {sorted(tagged - ci_run_sessions())}"
    )
    for where, text in (
        ("README.md", _row(README.read_text(), "`nox -t ci`")),
        ("docs/ci.md", CI_PAGE.read_text().split("Which sessions carry the `ci` tag", 1)[1].split("\n\n")[0]),
    ):
        before, _, after = text.partition("CI also runs")
        assert _named(before) == tagged, f"{where}: the ci tag is on {sorted(tagged)}"
        assert _named(after) == also, f"{where}: .ci/run also runs {sorted(also)}"


def test_the_ci_page_lists_every_job_and_what_it_runs() -> None:
    page = CI_PAGE.read_text()
    table = page.split("## The workflow's jobs", 1)[1].split("\n## ", 1)[0]
    documented = {
        line.split("|")[1].strip().strip("`") for line in table.splitlines()[4:] if line.startswith("|")
    }
    runs = workflow_sessions()
    assert documented == set(runs), f"docs/ci.md's jobs {sorted(documented)}, the workflow's {sorted(runs)}"
    for job, ran in runs.items():
        row = _row(table, f"`{job}`")
        assert ran <= _named(row), (
            f"docs/ci.md, job {job}: runs {sorted(ran)}, the row names {sorted(_named(row))}"
        )


def test_the_ci_page_lists_what_ci_run_runs() -> None:
    table = CI_PAGE.read_text().split("## What `.ci/run` runs", 1)[1].split("\n## ", 1)[0]
    assert _named(table) == ci_run_sessions()


def test_the_report_job_merges_the_other_jobs_logs() -> None:
    jobs = workflow()["jobs"]
    report = jobs["report"]
    assert {"suites", "sharded"} <= set(report["needs"])
    steps = report["steps"]
    download = next(s for s in steps if str(s.get("uses", "")).startswith("actions/download-artifact"))
    runs = [s["run"] for s in steps if "run" in s]
    merge = next(r for r in runs if "report -- merge" in r)
    assert download["with"]["path"] in merge.split(), "report merge must read the downloaded artifacts"
    assert any("report -- alerts" in r for r in runs)
    assert runs.index(merge) < next(i for i, r in enumerate(runs) if "report -- alerts" in r)


def test_lint_compares_the_spec_with_the_real_base() -> None:
    lint = workflow()["jobs"]["lint"]
    checkout = next(s for s in lint["steps"] if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout.get("with", {}).get("fetch-depth") == 0, "a shallow clone has no base: HEAD vs HEAD"
    assert "LATTICE_SPEC_BASE" in lint.get("env", {})
    assert {"spec", "docs"} <= workflow_sessions()["lint"]


def test_the_session_reader_reads_nox_lines() -> None:
    assert _nox_sessions("nox -s live race regression") == {"live", "race", "regression"}
    assert _nox_sessions("env -u X LATTICE_PROVIDER=embedded nox") == set(default_sessions())
    assert _nox_sessions("nox -s ${{ matrix.suite }} --force-python 3.12", {"suite": ["a", "b"]}) == {
        "a",
        "b",
    }
    assert _nox_sessions("nox -s report -- merge logs") == {"report"}
