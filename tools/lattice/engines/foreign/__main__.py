"""`python -m tools.lattice.engines.foreign --config FILE [--prove] [pytest args]`: run a foreign suite.

Each run works in a fresh copy of the foreign project (made outside it, removed after), with the
foreign-mode plugin, bytecode and pytest's cache off, coverage data and file reports sent to
logs/foreign/<config>/ of this repository. After the run, any file added, changed or removed in the
copy or the original (but for the config's `writes`) is named and the run fails. `--prove` runs it
serially (`-n 0`) and with `-n 2`, both must pass alike; it prints both wall times and, for a failed
run, its first traceback whole. `--requirements` prints what to install (one pip argument a line).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.engines.foreign import install, options, tree
from tools.lattice.engines.foreign.config import TREE_ENV, ForeignConfig, ForeignConfigError, load_config
from tools.lattice.seam.project import project_root

# The directory that holds the `tools` package (the checkout, or site-packages when installed).
LATTICE_ROOT = Path(__file__).resolve().parents[4]
_OUTCOME = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")
_SECTION = re.compile(r"^=+ (.+?) =+$")
_BLOCK = re.compile(r"^_{3,} .+ _{3,}$")


@dataclass(frozen=True)
class Run:
    code: int
    wall: float
    output: str  # "" when it was streamed, not captured
    changed: list[str]


def pytest_command(config_path: Path, extra: list[str], lattice_options: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tools.lattice.engines.foreign.plugin",
        # The target-mode plugins, should this environment see the lattice's entry points (its
        # egg-info on PYTHONPATH): this suite brings its own fixtures, and the lattice's deps are not here.
        "-p",
        "no:lattice",
        "-p",
        "no:lattice-shards",
        f"--lattice-foreign-config={config_path}",
        "-p",
        "no:cacheprovider",
        *lattice_options,
        *extra,
    ]


def run_suite(
    config_path: Path, config: ForeignConfig, extra: list[str], logs: Path, *, capture: bool
) -> Run:
    """One run in a fresh copy of the project; what it changed there and in the original."""
    if logs.exists():
        shutil.rmtree(logs)
    logs.mkdir(parents=True)
    original = tree.snapshot(config.tree)
    with tempfile.TemporaryDirectory(prefix="lattice-foreign-") as scratch:
        copy = tree.copy(config.tree, Path(scratch) / config.tree.name)
        copied = tree.snapshot(copy)
        local = load_config(config_path, tree=copy)
        empty_ini = Path(scratch) / "pytest.ini"
        empty_ini.write_text("[pytest]\n")
        command = pytest_command(
            config_path,
            [*config.pytest.args, *local.tests, *extra],
            options.pytest_options(local, logs, empty_ini),
        )
        # Not what an enclosing pytest run set (this may itself run under xdist): the suite's run is its own.
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST_", "LATTICE_FOREIGN_"))
        }
        env = {
            **inherited,
            # The lattice after the suite's own rootdir (pytest puts that first): its `tools` package is
            # all the suite needs from here, and names the suite uses (`app`, `tests`) stay the suite's.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(LATTICE_ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONDONTWRITEBYTECODE": "1",
            "COVERAGE_FILE": str(logs / ".coverage"),
            TREE_ENV: str(copy),
        }
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=local.rootdir, env=env, capture_output=capture, text=True, check=False
        )
        wall = time.perf_counter() - started
        changed = [
            f"{entry} (in the run's copy)"
            for entry in tree.changes(copied, tree.snapshot(copy), config.writes)
        ]
    changed += [
        f"{entry} (in {config.tree} itself)" for entry in tree.changes(original, tree.snapshot(config.tree))
    ]
    output = (done.stdout or "") + (done.stderr or "") if capture else ""
    return Run(done.returncode, wall, output, changed)


def outcomes(output: str) -> dict[str, int]:
    last = [line for line in output.splitlines() if line.startswith("=") and " in " in line]
    return {kind.rstrip("s"): int(n) for n, kind in _OUTCOME.findall(last[-1] if last else "")}


def first_failure(output: str) -> str:
    """The first failure's (or error's) traceback whole, and the short summary; all of it if neither."""
    lines = output.splitlines()
    sections = [i for i, line in enumerate(lines) if _SECTION.match(line)]
    start = next((i for i in sections if _SECTION.match(lines[i])[1] in ("FAILURES", "ERRORS")), None)  # type: ignore[index]
    if start is None:
        return output
    blocks = [i for i in range(start + 1, len(lines)) if _BLOCK.match(lines[i])]
    end = next((i for i in [*blocks[1:], *sections] if i > start), len(lines))
    summary = next((i for i in sections if "short test summary" in lines[i]), None)
    tail = lines[summary:] if summary is not None and summary >= end else lines[-1:]
    return "\n".join([*lines[start:end], *(["..."] if end < len(lines) else []), *tail]) + "\n"


def _report_changes(label: str, run: Run, config: ForeignConfig) -> list[str]:
    for entry in run.changed:
        print(f"foreign: {label}: {entry}", flush=True)
    if not run.changed:
        return []
    return [
        f"{label} wrote into the project ({len(run.changed)} files above; a suite's own writes belong"
        " in `writes` of the config)"
    ]


def prove(config_path: Path, config: ForeignConfig, extra: list[str], logs: Path) -> int:
    runs: dict[str, Run] = {}
    problems: list[str] = []
    for label, args in (("serial", ["-n", "0"]), ("-n 2", ["-n", "2"])):
        run = run_suite(config_path, config, [*args, *extra], logs / label.replace(" ", ""), capture=True)
        runs[label] = run
        counts = outcomes(run.output)
        print(
            f"foreign: {label:>6}: exit {run.code}, {counts or 'no summary'}, {run.wall:.1f} s wall",
            flush=True,
        )
        if run.code != 0:
            sys.stdout.write(first_failure(run.output))
            problems.append(f"{label} exited {run.code}")
        problems += _report_changes(label, run, config)
    serial, parallel = (outcomes(runs[k].output) for k in ("serial", "-n 2"))
    if serial != parallel:
        problems.append(f"serial and -n 2 disagree: {serial} vs {parallel}")
    if problems:
        print("foreign: " + "; ".join(problems))
        return 1
    wall_serial, wall_parallel = runs["serial"].wall, runs["-n 2"].wall
    print(
        f"foreign: serial {wall_serial:.1f} s, -n 2 {wall_parallel:.1f} s"
        f" ({wall_serial / wall_parallel:.2f}x); {config.tree} unchanged, server left as found"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lattice.engines.foreign", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the foreign-mode TOML file")
    parser.add_argument("--prove", action="store_true", help="serial and -n 2, both must pass alike")
    parser.add_argument(
        "--requirements", action="store_true", help="print what to install, one pip argument a line"
    )
    args, extra = parser.parse_known_args(argv)
    config_path = args.config.resolve()
    try:
        config = load_config(config_path)
        install.check_python(config)
        if args.requirements:
            print("\n".join(install.requirements(config)))
            return 0
        logs = project_root() / "logs" / "foreign" / config_path.stem
        if args.prove:
            return prove(config_path, config, extra, logs)
        run = run_suite(config_path, config, extra, logs, capture=False)
    except ForeignConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    problems = _report_changes("run", run, config)
    print(f"foreign: exit {run.code} in {run.wall:.1f} s" + (f"; {problems[0]}" if problems else ""))
    return run.code or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
