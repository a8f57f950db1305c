"""Which tests run which line: the suites under coverage, a context per test, kept until the code changes.

pytest-cov's `--cov-context=test` names each line's context `<nodeid>|setup|run|teardown` and
combines what the xdist workers measured; most tests run the app in their own process (in-process
ASGI transport, in-process Dramatiq worker), so its lines are attributed to the test that drove them.
The processes tests start (the live stack's API and worker) name theirs `<nodeid>|child` after the
test running at the time (contexts.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.engines.mutate import contexts
from tools.lattice.engines.mutate.runs import pytest_command

MAP_SUITE = "mutate-map"


# A line that runs only while modules are imported (a decorator, a module constant, a default
# argument) belongs to no test's context (the app is imported before coverage starts, by the
# lattice's plugin); these tests stand in for it: the fastest tests of the same file, every test of
# a test file that imports the module, and the ones that check the document the decorators build.
IMPORT_TIME_TESTS = 25
DOCUMENT_TESTS = ("tests/contract/test_chain.py", "tests/contract/test_api_md.py")


@dataclass
class CoverageMap:
    tests: list[str]
    durations: dict[str, float]
    lines: dict[str, dict[int, list[int]]]  # path -> line -> indices into tests
    importers: dict[str, list[str]]  # module path -> test files that import it
    fingerprint: str
    built_in_s: float

    def tests_for(self, path: str, first: int, last: int, at_import: bool) -> list[str]:
        """Tests that ran any line of [first, last], fastest first (a failure stops the run sooner)."""
        by_line = self.lines.get(path, {})
        indices = {i for line in range(first, last + 1) for i in by_line.get(line, [])}
        # A process a test starts imports the app after its context is set, so an import-time line
        # may carry that test alone; the stand-ins still run, as for a line with no test at all.
        if at_import:
            same_file = {i for ids in by_line.values() for i in ids}
            fastest = sorted(same_file, key=lambda i: self.durations.get(self.tests[i], 1.0))
            indices |= set(fastest[:IMPORT_TIME_TESTS])
            wanted = (*DOCUMENT_TESTS, *(f"{f}::" for f in self.importers.get(path, [])))
            indices |= {i for i, t in enumerate(self.tests) if t.startswith(wanted)}
        return sorted((self.tests[i] for i in indices), key=lambda t: (self.durations.get(t, 1.0), t))

    def tests_of_uses(self, uses: dict[str, set[int]]) -> set[str]:
        """The tests that ran any of these lines (what reads an import-time value, see uses.py)."""
        return {
            self.tests[i]
            for path, lines in uses.items()
            for line in lines
            for i in self.lines.get(path, {}).get(line, [])
        }

    def ordered(self, tests: set[str]) -> list[str]:
        return sorted(tests, key=lambda t: (self.durations.get(t, 1.0), t))

    def save(self, path: Path) -> None:
        data = {
            "fingerprint": self.fingerprint,
            "built_in_s": self.built_in_s,
            "tests": self.tests,
            "durations": self.durations,
            "lines": {f: {str(k): v for k, v in lines.items()} for f, lines in self.lines.items()},
            "importers": self.importers,
        }
        path.write_text(json.dumps(data, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> CoverageMap | None:
        try:
            data = json.loads(path.read_text())
            lines = {f: {int(k): v for k, v in rows.items()} for f, rows in data["lines"].items()}
            return cls(
                data["tests"],
                data["durations"],
                lines,
                data["importers"],
                data["fingerprint"],
                data["built_in_s"],
            )
        except (OSError, ValueError, KeyError, AttributeError):
            return None  # missing or from another version of this tool: measured again


# The parts of this tool that run mutants and report on them, not the ones that measure: changing
# them leaves the map as it was.
NOT_MEASURED = tuple(
    f"tools/lattice/engines/mutate/{name}.py"
    for name in (
        *("command", "report", "seeds", "prefilter", "verify", "equivalents", "operators", "scope"),
        *("sandbox", "forkserver", "selection", "uses"),
    )
)


def fingerprint(root: Path, watched: list[str], ignored: tuple[str, ...] = ()) -> str:
    """The code and tests the map was measured on: any change to them makes a new map."""
    digest = hashlib.sha1(usedforsecurity=False)
    for top in watched:
        for file in sorted((root / top).rglob("*.py")):
            if file.relative_to(root).as_posix() in ignored:
                continue
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


class MapFailed(Exception):
    pass


def targets(suites: list[str]) -> list[str]:
    """What the map (and so the mutants) may run: the suites, without the long state machines
    (a mutant would wait minutes for a machine that a plain test catches in milliseconds), and the
    document checks."""
    return [*(f"tests/{s}" for s in suites), "--ignore=tests/integration/stateful", *DOCUMENT_TESTS]


def build(
    root: Path, package: str, suites: list[str], workers: str, workdir: Path, env: dict[str, str]
) -> CoverageMap:
    from coverage import CoverageData

    data_file = workdir / ".coverage"
    logs = workdir / "map-logs"
    for stale in workdir.glob(".coverage*"):
        stale.unlink()
    started = time.perf_counter()
    contexts_dir = workdir / "contexts"
    shutil.rmtree(contexts_dir, ignore_errors=True)
    config = contexts.coverage_config(root, workdir / "coverage.toml")
    command = pytest_command(
        targets(suites),
        suite=MAP_SUITE,
        logs=logs,
        # the floor of [tool.coverage.report] is for whole CI runs, not for this map
        extra=[
            "-n",
            workers,
            f"--cov={package}",
            f"--cov-config={config}",
            "--cov-context=test",
            # the processes the tests start name their lines after the running test too
            "-p",
            contexts.__name__,
            "--cov-report=",
            "--cov-fail-under=0",
            "-q",
        ],
    )
    done = subprocess.run(
        command,
        cwd=root,
        env={
            **env,
            "COVERAGE_FILE": str(data_file),
            contexts.DIRECTORY_ENV: str(contexts_dir),
            # The xdist workers do not start in the project's root: without it first on their path,
            # `tools` is the lattice's installed package alone and the target (tools/retrace_target.py)
            # is not found (the sandboxes put their copy there the same way).
            "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        },
    )
    built_in = time.perf_counter() - started
    passed, durations, failed = _passed_tests(logs / f"{MAP_SUITE}.json")
    if done.returncode not in (0, 1) or not passed:
        raise MapFailed(f"mutate: the coverage run of {', '.join(suites)} failed (exit {done.returncode})")
    if failed:
        # Named: a test left out is a test no mutant meets, and a flaky one moves the score between runs.
        print(
            f"mutate: {len(failed)} test(s) fail without any mutant and are left out of the map "
            f"(a mutant they would 'kill' proves nothing): {', '.join(failed[:10])}"
            + (" ..." if len(failed) > 10 else ""),
            file=sys.stderr,
        )
    data = CoverageData(basename=str(data_file))
    data.read()
    near = contexts.neighbours(contexts_dir)
    tests = sorted(passed)
    index = {t: i for i, t in enumerate(tests)}
    lines: dict[str, dict[int, list[int]]] = {}
    for measured in data.measured_files():
        rel = (
            Path(measured).resolve().relative_to(root.resolve()).as_posix()
            if os.path.isabs(measured)
            else measured
        )
        per_line: dict[int, list[int]] = {}
        for line, names in data.contexts_by_lineno(measured).items():
            ids = {index[t] for t in contexts.tests_of(names, near) if t in index}
            if ids:
                per_line[line] = sorted(ids)
        if per_line:
            lines[rel] = per_line
    return CoverageMap(tests, durations, lines, importers(root, package), "", round(built_in, 1))


def importers(root: Path, package: str) -> dict[str, list[str]]:
    """For each module of `package`, the test files that import it (`import <package>.x`,
    `from <package>.x import`, `from <package> import x`): read from the test files' syntax, not from
    running them."""
    import ast

    found: dict[str, set[str]] = {}
    for test_file in sorted((root / "tests").rglob("test_*.py")):
        try:
            tree = ast.parse(test_file.read_text())
        except SyntaxError:
            continue
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        for name in names:
            if name == package or name.startswith(package + "."):
                as_path = name.replace(".", "/")
                for candidate in (f"{as_path}.py", f"{as_path}/__init__.py"):
                    if (root / candidate).is_file():
                        found.setdefault(candidate, set()).add(test_file.relative_to(root).as_posix())
    return {module: sorted(files) for module, files in sorted(found.items())}


def _passed_tests(telemetry: Path) -> tuple[set[str], dict[str, float], list[str]]:
    passed: set[str] = set()
    failed: set[str] = set()
    durations: dict[str, float] = {}
    if not telemetry.is_file():
        return passed, durations, []
    for row in telemetry.read_text().splitlines():
        record = json.loads(row)
        durations[record["test"]] = durations.get(record["test"], 0.0) + record["duration_s"]
        if record["outcome"] == "passed":
            passed.add(record["test"])
        elif record["outcome"] in ("failed", "error"):
            failed.add(record["test"])
    return passed, durations, sorted(failed - passed)
