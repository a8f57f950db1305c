"""`mutate`: the operators on small sources, the changed-line scope on a throwaway git repository,
the reviewed-equivalents file, the score, and the fork server's time limit.

Pure logic and local subprocesses: no fixture here touches a database or Redis (the whole tool runs
in `nox -s mutate`, and in `.ci/run` against the previous commit).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.lattice.engines.mutate import contexts, equivalents, seeds
from tools.lattice.engines.mutate.operators import mutations
from tools.lattice.engines.mutate.prefilter import prefilter
from tools.lattice.engines.mutate.report import Result, github_annotations, score
from tools.lattice.engines.mutate.sandbox import Outcome
from tools.lattice.engines.mutate.scope import ScopeError, changed_lines, mutants_of
from tools.lattice.engines.mutate.selection import select

FORKSERVER = Path(__file__).resolve().parents[2] / "tools/lattice/engines/mutate/forkserver.py"


def _changes(source: str) -> set[tuple[str, str]]:
    """(operator, the mutated line) for every mutant of a one-line body."""
    out = set()
    for m in mutations(source):
        line = m.apply(source).splitlines()[m.line - 1].strip()
        out.add((m.operator, line))
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(a, b):\n    return a < b\n", ("comparison", "return a <= b")),
        ("def f(a, b):\n    return a == b\n", ("comparison", "return a != b")),
        ("def f(a, b):\n    return a in b\n", ("comparison", "return a not in b")),
        ("def f(a, b):\n    return a and b\n", ("boolean", "return a or b")),
        ("def f(a):\n    return not a\n", ("drop-not", "return a")),
        ("def f(a):\n    return a + 1\n", ("arithmetic", "return a - 1")),
        ("def f(a):\n    return a + 1\n", ("number", "return a + 2")),
        ("def f():\n    return 'x'\n", ("string", "return 'XXxXX'")),
        ("def f():\n    return True\n", ("boolean", "return False")),
        ("def f(a):\n    return a\n", ("return-none", "return None")),
        ("def f(g):\n    g(1)\n", ("drop-call", "pass")),
        ("def f(g):\n    return g(1, name=2)\n", ("drop-keyword", "return g(1)")),
        ("def f(g):\n    return g(a=1, name=2)\n", ("drop-keyword", "return g(name=2)")),
        ("def f(xs):\n    for x in xs:\n        break\n", ("loop-control", "continue")),
        ("def f(a):\n    a += 1\n", ("arithmetic", "a -= 1")),
    ],
)
def test_each_operator_makes_its_change(source: str, expected: tuple[str, str]) -> None:
    assert expected in _changes(source)


def test_every_mutant_parses_and_changes_only_its_span() -> None:
    source = Path(__file__).resolve().parents[2].joinpath("app/routes/tokens.py").read_text()
    found = mutations(source)
    assert len(found) > 20
    for m in found:
        mutated = m.apply(source)
        ast.parse(mutated)
        assert mutated != source
        assert mutated[: m.start] == source[: m.start]
        assert mutated[m.start + len(m.replacement) :] == source[m.end :]


def test_what_is_left_alone() -> None:
    source = '''"""A docstring."""
from typing import TYPE_CHECKING

__all__ = ["f"]

if TYPE_CHECKING:
    import os

def f(a: int = 3) -> str:
    """Docstring of f."""
    log.info("a message %s", a)
    return "kept"  # pragma: no mutate
'''
    found = mutations(source)
    texts = {(m.operator, m.original) for m in found}
    assert not any("docstring" in original.lower() for _, original in texts)
    assert not any(original in ('"f"', '"a message %s"', '"kept"') for _, original in texts)
    assert ("number", "3") in texts  # a default argument is code
    assert not any(m.operator == "drop-call" and "log.info" in m.original for m in found)


def test_import_time_and_body_code_are_told_apart() -> None:
    source = "LIMIT = 3\n\n@decorate(name='x')\ndef f(a=1):\n    return a + 2\n"
    by_original = {m.original: m.at_import for m in mutations(source)}
    assert by_original["3"] is True
    assert by_original["'x'"] is True
    assert by_original["1"] is True
    assert by_original["2"] is False


def test_keys_survive_an_edit_elsewhere_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a):\n    return a < 1\n")
    before = {m.key for m in mutants_of(tmp_path, "m.py")}
    (tmp_path / "m.py").write_text("X = 0\n\n\ndef f(a):\n    return a < 1\n")
    after = {m.key for m in mutants_of(tmp_path, "m.py")}
    assert before <= after
    assert len(after) > len(before)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_changed_lines_since_a_ref(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "a.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 2\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "one", "--allow-empty")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "two")
    (pkg / "a.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 3 if True else 2\n")
    assert changed_lines(tmp_path, "HEAD", "app") == {"app/a.py": {6}}
    chosen, how, _ = select(tmp_path, "app", base="HEAD")
    assert chosen
    assert all(m.mutation.line == 6 for m in chosen)
    assert "changed since HEAD" in how
    with pytest.raises(ScopeError, match="--base no-such-ref is not a commit"):
        select(tmp_path, "app", base="no-such-ref")
    with pytest.raises(ScopeError, match="no such file"):
        select(tmp_path, "app", path="app/missing.py")


def test_a_seeded_sample_is_the_same_each_time(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/a.py").write_text("def f(a, b):\n    return a < b and a + 1 > 2 or 'x'\n")
    first, _, _ = select(tmp_path, "app", sample=3, seed=7)
    again, _, _ = select(tmp_path, "app", sample=3, seed=7)
    assert [m.key for m in first] == [m.key for m in again]
    assert len(first) == 3


def test_equivalents_need_a_reason(tmp_path: Path) -> None:
    file = tmp_path / "equivalent.toml"
    file.write_text('[[equivalent]]\nkey = "abc"\nreason = "the value is never read"\n')
    assert equivalents.load(file) == {"abc": "the value is never read"}
    file.write_text('[[equivalent]]\nkey = "abc"\n')
    with pytest.raises(equivalents.EquivalentsError, match=r"abc.*no `reason`"):
        equivalents.load(file)


def test_score_counts_timeouts_as_caught_and_leaves_out_equivalents(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a):\n    return a < 1 and a > 2\n")
    mutants = mutants_of(tmp_path, "m.py")[:4]
    statuses = ["killed", "timeout", "survived", "equivalent"]
    results = [Result(m, Outcome(s, 0.1, 1), "diff") for m, s in zip(mutants, statuses, strict=True)]
    assert score(results) == pytest.approx(2 / 3)
    report = {"survivors": [{"where": "app/x.py:12 comparison", "key": "k1"}]}
    assert github_annotations(report)[0].startswith(
        "::error file=app/x.py,line=12,title=mutant survived (comparison)::"
    )


def test_the_fork_server_stops_a_run_past_its_time(tmp_path: Path) -> None:
    (tmp_path / "test_slow.py").write_text("import time\n\ndef test_slow():\n    time.sleep(60)\n")
    (tmp_path / "test_fine.py").write_text("def test_fine():\n    assert 1 + 1 == 2\n")
    listing = tmp_path / "modules.txt"
    listing.write_text("json\n")
    server = subprocess.Popen(
        [sys.executable, str(FORKSERVER), str(listing)],
        cwd=tmp_path,
        # Only pytest itself: this venv's plugins (the lattice's among them) have no business here.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        assert json.loads(server.stdout.readline())["ready"] is True

        def ask(test: str, timeout_s: float) -> dict[str, object]:
            args = ["-p", "no:cacheprovider", "-q", test]
            request = {"args": args, "timeout_s": timeout_s, "log": str(tmp_path / "log")}
            server.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
            server.stdin.flush()  # type: ignore[union-attr]
            return dict(json.loads(server.stdout.readline()))  # type: ignore[union-attr]

        started = time.monotonic()
        slow = ask("test_slow.py", 1.0)
        assert slow["timed_out"] is True
        assert slow["exit"] is None
        assert time.monotonic() - started < 30
        fine = ask("test_fine.py", 60.0)
        assert fine == {**fine, "timed_out": False, "exit": 0}
        # and where the run's time went, for the summary's breakdown
        phases = json.loads((tmp_path / "log.phases.json").read_text())
        assert set(phases) == {"start", "fixtures", "tests", "exit"}
        assert 0 < sum(phases.values()) <= float(str(fine["seconds"]))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_warm_server_swaps_a_mutant_function_into_what_it_preloaded(tmp_path: Path) -> None:
    """The warm server imported the project before any mutant; its child puts the mutant's code into
    every function object made from the original (a bound reference and a decorated one too), and says
    so when the line is in no function or in one the import ran (both the cold server's)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/__init__.py").write_text("")
    original = (
        "import functools\n\nLIMIT = 2\n\n\n"
        "class Box:\n    @functools.lru_cache\n    def double(self, x):\n        return x * 2\n\n\n"
        "def over(x):\n    return x > LIMIT\n\n\n"
        "def _made_at_import():\n    return 2\n\n\nMADE = _made_at_import()\n"
    )
    (tmp_path / "pkg/m.py").write_text(original)
    (tmp_path / "test_m.py").write_text(
        "from pkg.m import Box, over\n\n"
        "def test_over():\n    assert over(3) and not over(2)\n\n"
        "def test_double():\n    assert Box().double(4) == 8\n"
    )
    listing = tmp_path / "modules.txt"
    listing.write_text("pytest\n")
    project = tmp_path / "project.txt"
    project.write_text("pkg.m\ntest_m\n")
    server = subprocess.Popen(
        [sys.executable, str(FORKSERVER), str(listing), str(project)],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(tmp_path)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        assert json.loads(server.stdout.readline())["threads"] == 1

        def ask(mutated: str, line: int) -> object:
            (tmp_path / "pkg/m.py").write_text(mutated)
            swap = {"file": str(tmp_path / "pkg/m.py"), "line": line}
            args = ["-p", "no:cacheprovider", "-q", "test_m.py"]
            request = {"args": args, "timeout_s": 60, "log": str(tmp_path / "log"), "swap": swap}
            server.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
            server.stdin.flush()  # type: ignore[union-attr]
            return json.loads(server.stdout.readline())["exit"]  # type: ignore[union-attr]

        assert ask(original, 13) == 0  # the original swapped for itself: every test passes
        assert ask(original.replace("x > LIMIT", "x >= LIMIT"), 13) == 1
        assert ask(original.replace("x * 2", "x * 3"), 9) == 1  # a method under a decorator
        assert ask(original.replace("LIMIT = 2", "LIMIT = 3"), 3) == 98  # module level: not swappable
        # a function the import itself ran: what it made (MADE) is made, so only a fresh import tells
        assert ask(original.replace("return 2\n\n\nMADE", "return 3\n\n\nMADE"), 17) == 98
    finally:
        server.terminate()
        server.wait(timeout=30)


def _commit(repo: Path, message: str) -> None:
    _git(repo, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", message, "--allow-empty")


def test_the_seed_comes_from_the_commit_unless_given(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, "one")
    first, told = seeds.resolve(tmp_path, None)
    assert seeds.resolve(tmp_path, "commit") == (first, told)  # the same commit draws the same sample
    assert told.startswith("commit ")
    again, _ = seeds.resolve(tmp_path, "commit:1")
    assert again != first
    _commit(tmp_path, "two")
    assert seeds.resolve(tmp_path, None)[0] != first  # a new commit draws a new sample
    assert seeds.resolve(tmp_path, "7") == (7, "given")
    with pytest.raises(seeds.SeedError, match="give an integer"):
        seeds.resolve(tmp_path, "tuesday")


def test_each_run_adds_a_line_to_the_history(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, "one")
    for score_ in (0.9, 0.8):
        seeds.append_history(
            tmp_path, {"scope": "a sample", "seed": 5, "mutants": 10, "counts": {}, "score": score_}
        )
    seeds.append_history(tmp_path, {"scope": "changed lines", "seed": None, "score": 1.0})
    seeds.append_history(tmp_path, {"scope": "the 1 mutant(s) with the keys given", "seed": 3, "score": 1.0})
    rows = seeds.history(tmp_path)
    assert [r["score"] for r in rows] == [0.9, 0.8, 1.0, 1.0]
    assert rows[0]["commit"] == seeds.head(tmp_path)
    line = seeds.history_line(rows)
    assert line is not None
    assert "90.0%" in line
    assert "80.0%" in line
    assert "100.0%" not in line  # only sampled runs compare with each other


def _removed_by(tmp_path: Path, source: str, name: str = "m.py") -> tuple[list[str], dict[str, list[str]]]:
    (tmp_path / name).write_text(source)
    kept, removed = prefilter(tmp_path, mutants_of(tmp_path, name))
    diff = {
        rule: [m.mutation.original + " -> " + m.mutation.replacement for m in found]
        for rule, found in removed.items()
    }
    return [m.mutation.original + " -> " + m.mutation.replacement for m in kept], diff


def test_a_mutant_the_compiler_folds_away_is_not_run(tmp_path: Path) -> None:
    kept, removed = _removed_by(tmp_path, "X = 2 ** 1\n\n\ndef f():\n    return 1 if False else 3\n")
    assert "2 ** 1 -> 2 * 1" in removed["same-bytecode"]  # both fold to the constant 2
    assert "1 -> 2" in kept  # a real change is run (the folded X is 2 ** 2, not 2)
    assert "False -> True" in kept


def test_two_mutants_that_make_one_program_run_once(tmp_path: Path) -> None:
    kept, removed = _removed_by(tmp_path, "SIZE = 10 * 1024 * 1024\n")
    # either 1024 made 1025 is 10 * 1025 * 1024; 10 / 1024 * 1024 and 10 * 1024 / 1024 are both 10.0
    assert removed["duplicate"] == ["10 * 1024 -> 10 / 1024", "1024 -> 1025"]
    assert kept.count("1024 -> 1025") == 1


def test_a_dropped_keyword_equal_to_its_default_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "prefilter_case"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    source = (
        "from sqlalchemy import Column, Text\n\n\n"
        "def g(a, flag=True):\n    return a\n\n\n"
        "A = g(1, flag=True)\nB = g(1, flag=False)\n"
        "C = Column(Text, nullable=True)\nD = Column(Text, primary_key=True, nullable=True)\n"
    )
    kept, removed = _removed_by(tmp_path, source, "prefilter_case/mod.py")
    assert removed["default-keyword"] == [", flag=True -> ", ", nullable=True -> "]
    assert ", flag=False -> " in kept
    assert ", nullable=True -> " in kept  # with primary_key=True, nullable defaults to False


def test_a_child_process_names_its_lines_after_the_running_test(tmp_path: Path) -> None:
    """What a live stack's process runs is mapped to the test that was running, not to no test."""
    (tmp_path / "childpkg").mkdir()
    (tmp_path / "childpkg/__init__.py").write_text("")
    (tmp_path / "childpkg/work.py").write_text("def one():\n    return 1\n\n\ndef two():\n    return 2\n")
    (tmp_path / "test_spawn.py").write_text(
        "import subprocess, sys\n\n"
        "def _child(name):\n"
        "    code = f'import childpkg.work as w; w.{name}()'\n"
        "    subprocess.run([sys.executable, '-c', code], check=True)\n\n"
        "def test_a():\n    _child('one')\n\n"
        "def test_b():\n    _child('two')\n"
    )
    config = contexts.coverage_config(Path(__file__).resolve().parents[2], tmp_path / "coverage.toml")
    data = tmp_path / ".coverage"
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "COVERAGE_FILE": str(data),
        contexts.DIRECTORY_ENV: str(tmp_path / "contexts"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pytest_cov.plugin",
            "-p",
            contexts.__name__,
            "--cov=childpkg",
            f"--cov-config={config}",
            "--cov-context=test",
            "--cov-report=",
            "--cov-fail-under=0",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_spawn.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    from coverage import CoverageData

    measured = CoverageData(basename=str(data))
    measured.read()
    work = next(f for f in measured.measured_files() if f.endswith("work.py"))
    by_line = measured.contexts_by_lineno(work)
    assert by_line[2] == ["test_spawn.py::test_a|child"]
    assert by_line[6] == ["test_spawn.py::test_b|child"]


def test_lines_run_by_a_test_s_threads_and_children_are_mapped_to_it_under_xdist(tmp_path: Path) -> None:
    """Two xdist workers at once: a line that only a test's background thread runs, and one that only its
    child process runs, carry that test (a child's also its neighbours on the same worker) and never a
    test of the other worker. The workers, children of pytest's main process, once followed the main
    process's file too and relabelled their own lines after whatever test it last heard of."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/__init__.py").write_text("")
    (tmp_path / "pkg/work.py").write_text(
        "def in_thread():\n    return 'thread'\n\n\n"
        "def in_child():\n    return 'child'\n\n\n"
        "def elsewhere():\n    return 'elsewhere'\n"
    )
    (tmp_path / "test_a.py").write_text(
        "import subprocess, sys, threading, time\n"
        "import pkg.work as w\n\n"
        "def test_a_first():\n    time.sleep(0.3)\n\n"
        "def test_thread():\n"
        "    t = threading.Thread(target=lambda: (time.sleep(0.2), w.in_thread()))\n"
        "    t.start()\n    t.join()\n\n"
        "def test_child():\n"
        "    code = 'import time, pkg.work as w; time.sleep(0.2); w.in_child()'\n"
        "    subprocess.run([sys.executable, '-c', code], check=True)\n\n"
        "def test_a_last():\n    time.sleep(0.3)\n"
    )
    (tmp_path / "test_b.py").write_text(
        "import time\nimport pkg.work as w\n\n"
        + "".join(f"def test_b{n}():\n    time.sleep(0.1)\n    w.elsewhere()\n\n" for n in range(20))
    )
    config = contexts.coverage_config(Path(__file__).resolve().parents[2], tmp_path / "coverage.toml")
    data = tmp_path / ".coverage"
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "COVERAGE_FILE": str(data),
        contexts.DIRECTORY_ENV: str(tmp_path / "contexts"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "xdist.plugin",
            "-p",
            "pytest_cov.plugin",
            "-p",
            contexts.__name__,
            "-n",
            "2",
            "--dist",
            "loadfile",
            "--cov=pkg",
            f"--cov-config={config}",
            "--cov-context=test",
            "--cov-report=",
            "--cov-fail-under=0",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_a.py",
            "test_b.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    from coverage import CoverageData

    measured = CoverageData(basename=str(data))
    measured.read()
    work = next(f for f in measured.measured_files() if f.endswith("work.py"))
    near = contexts.neighbours(tmp_path / "contexts")
    by_line = {
        line: contexts.tests_of(names, near) for line, names in measured.contexts_by_lineno(work).items()
    }
    assert by_line[2] == {"test_a.py::test_thread"}
    assert "test_a.py::test_child" in by_line[6]
    assert by_line[6] <= {"test_a.py::test_thread", "test_a.py::test_child", "test_a.py::test_a_last"}
    assert all(t.startswith("test_b.py::") for t in by_line[10])


def test_an_import_time_line_a_child_ran_still_gets_the_stand_in_tests() -> None:
    from tools.lattice.engines.mutate.coverage_map import CoverageMap

    tests = [
        "tests/live/test_a.py::test_live",
        "tests/unit/test_m.py::test_fast",
        "tests/unit/test_x.py::test_x",
    ]
    cmap = CoverageMap(
        tests=tests,
        durations={tests[0]: 40.0, tests[1]: 0.1, tests[2]: 0.1},
        lines={"app/m.py": {1: [0], 5: [1]}},  # line 1 (a constant) ran only in the live stack's child
        importers={"app/m.py": ["tests/unit/test_x.py"]},
        fingerprint="",
        built_in_s=0.0,
    )
    assert cmap.tests_for("app/m.py", 1, 1, at_import=True) == [tests[1], tests[2], tests[0]]
    assert cmap.tests_for("app/m.py", 5, 5, at_import=False) == [tests[1]]


def test_verify_reports_where_the_map_and_the_full_run_disagree(tmp_path: Path) -> None:
    """The bookkeeping of --verify (pure logic: a stand-in runner that answers from a table)."""
    import queue

    from tools.lattice.engines.mutate import verify

    (tmp_path / "m.py").write_text("def f(a):\n    return a < 1 and a > 2 or a == 3\n")
    mutants = mutants_of(tmp_path, "m.py")[:4]
    by_map = ["killed", "survived", "no-tests", "timeout"]
    full_run = {mutants[0].key: "killed", mutants[1].key: "killed", mutants[2].key: "survived"}
    full_run[mutants[3].key] = "survived"

    class Answers:
        def run(self, mutant: object, tests: list[str], timeout_s: float) -> Outcome:
            key = mutant.key  # type: ignore[attr-defined]
            return Outcome(
                full_run[key], 1.0, len(tests), killed_by="t" if full_run[key] == "killed" else None
            )

    runners: queue.Queue[object] = queue.Queue()
    runners.put(Answers())
    results = [Result(m, Outcome(s, 0.1, 1), "diff") for m, s in zip(mutants, by_map, strict=True)]
    said: list[str] = []
    checked = verify.run(results, ["tests/unit"], runners, 60.0, 1, said.append)  # type: ignore[arg-type]
    assert (checked["mutants"], checked["agree"]) == (4, 2)
    assert [(d["map"], d["full"]) for d in checked["disagreements"]] == [
        ("survived", "killed"),
        ("timeout", "survived"),
    ]
    assert sum("DISAGREE" in line for line in said) == 2
    assert len(verify.choose([*results, Result(mutants[0], Outcome("equivalent", 0, 0), "")], 10, 1)) == 4
    assert verify.everything(["b", "a"], {"a": 0.1, "b": 0.2}, ["unit"]) == ["a", "b", "tests/live"]


def test_an_import_time_value_is_traced_to_the_lines_that_read_it(tmp_path: Path) -> None:
    from tools.lattice.engines.mutate.uses import use_lines

    (tmp_path / "app").mkdir()
    (tmp_path / "app/a.py").write_text(
        "LIMIT = 5\n\n\ndef f(x):\n    return x > LIMIT\n\n\n"
        "@wrap(name='h')\ndef h(z=3):\n    y = z\n    return y\n"
    )
    (tmp_path / "app/b.py").write_text(
        "from app import a\nfrom app.a import LIMIT\n\n\ndef g(y):\n    n = LIMIT\n    return y < a.LIMIT\n"
    )
    (tmp_path / "app/c.py").write_text("LIMIT = 7\n\n\ndef k():\n    return LIMIT\n")  # another LIMIT
    assert use_lines(tmp_path, "app", "app/a.py", 1, 1) == {"app/a.py": {5}, "app/b.py": {6, 7}}
    assert use_lines(tmp_path, "app", "app/a.py", 9, 9) == {"app/a.py": {10, 11}}  # a default: the body
    assert use_lines(tmp_path, "app", "app/a.py", 8, 8) == {"app/a.py": {10, 11}}  # a decorator: the body


def test_mutants_can_be_chosen_by_key(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/a.py").write_text("def f(a, b):\n    return a < b and a + 1 > 2\n")
    every = mutants_of(tmp_path, "app/a.py")
    chosen, how, _ = select(tmp_path, "app", keys=[every[1].key, every[3].key])
    assert [m.key for m in chosen] == [every[1].key, every[3].key]
    assert how == "the 2 mutant(s) with the keys given"
    with pytest.raises(ScopeError, match="no mutant of app/ has key 0000"):
        select(tmp_path, "app", keys=["0000"])
