"""`python -m tools.lattice.foreign --config FILE [--prove] [pytest args]`: run a foreign suite.

Runs `pytest` in the config's `rootdir` with the foreign-mode plugin, bytecode and pytest's cache off
(nothing is written into the foreign project). `--prove` runs it serially and with `-n 2`, and checks
that both pass alike, that no file of the foreign project changed and that nothing is left on the
server; it prints both wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tools.lattice.foreign.config import ForeignConfig, ForeignConfigError, load_config

LATTICE_ROOT = Path(__file__).resolve().parents[3]
_OUTCOME = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


def pytest_command(config_path: Path, config: ForeignConfig, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tools.lattice.foreign.plugin",
        # The target-mode plugins, should this environment see the lattice's entry points (its
        # egg-info on PYTHONPATH): this suite brings its own fixtures, and the lattice's deps are not here.
        "-p",
        "no:lattice",
        "-p",
        "no:lattice-shards",
        f"--lattice-foreign-config={config_path}",
        "-p",
        "no:cacheprovider",
        *config.tests,
        *extra,
    ]


def run_suite(config_path: Path, config: ForeignConfig, extra: list[str]) -> tuple[int, float, str]:
    env = {
        **os.environ,
        # The lattice after the suite's own rootdir (pytest puts that first): its `tools` package is all
        # the suite needs from here, and names the suite uses (`app`, `tests`) stay the suite's.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(LATTICE_ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        pytest_command(config_path, config, extra),
        cwd=config.rootdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    return done.returncode, time.perf_counter() - started, output


def outcomes(output: str) -> dict[str, int]:
    last = [line for line in output.splitlines() if line.startswith("=") and " in " in line]
    return {kind.rstrip("s"): int(n) for n, kind in _OUTCOME.findall(last[-1] if last else "")}


def tree_digest(root: Path) -> str:
    """Every file's path, size and modification time under `root`: any write changes it."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def prove(config_path: Path, config: ForeignConfig, extra: list[str]) -> int:
    project = config.rootdir.parent if config.dotenv and config.dotenv.startswith("..") else config.rootdir
    before = tree_digest(project)
    runs = {}
    for label, args in (("serial", ["-p", "no:xdist"]), ("-n 2", ["-n", "2"])):
        code, wall, output = run_suite(config_path, config, [*args, *extra])
        counts = outcomes(output)
        runs[label] = (code, wall, counts)
        print(f"foreign: {label:>6}: exit {code}, {counts or 'no summary'}, {wall:.1f} s wall", flush=True)
        if code != 0:
            sys.stdout.write(output[-4000:])
    problems = [f"{label} exited {code}" for label, (code, _, _) in runs.items() if code != 0]
    if runs["serial"][2] != runs["-n 2"][2]:
        problems.append(f"serial and -n 2 disagree: {runs['serial'][2]} vs {runs['-n 2'][2]}")
    if tree_digest(project) != before:
        problems.append(f"a file under {project} changed")
    serial, parallel = runs["serial"][1], runs["-n 2"][1]
    if problems:
        print("foreign: " + "; ".join(problems))
    else:
        speedup = serial / parallel
        print(f"foreign: serial {serial:.1f} s, -n 2 {parallel:.1f} s ({speedup:.2f}x); {project} unchanged")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lattice.foreign", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the foreign-mode TOML file")
    parser.add_argument("--prove", action="store_true", help="serial and -n 2, both must pass alike")
    args, extra = parser.parse_known_args(argv)
    try:
        config = load_config(args.config.resolve())
    except ForeignConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.prove:
        return prove(args.config.resolve(), config, extra)
    code, wall, output = run_suite(args.config.resolve(), config, extra)
    sys.stdout.write(output)
    print(f"foreign: exit {code} in {wall:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
