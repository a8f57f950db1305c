"""Where a mutant runs: a private copy of the project, one per parallel runner, restored after each mutant.

A copy, not the checkout: the user's tree is never written, and runners never see each other's
mutant. The copy comes first on PYTHONPATH, ahead of the editable install that points at the
checkout; `verify()` checks that the copy is really what the tests import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.lattice.engines.mutate.runs import pytest_command
from tools.lattice.engines.mutate.scope import Mutant

MUTANT_SUITE = "mutate"
SWAP_FAILED = 98  # forkserver.py's: the warm child found no function to swap the mutant into


@dataclass(frozen=True)
class Outcome:
    status: str  # killed | survived | timeout | no-tests | error
    seconds: float
    tests_run: int
    killed_by: str | None = None
    detail: str = ""
    # where its pytest's time went (forkserver.py's _Phases), plus `wait`: the fork server's own share
    phases: dict[str, float] = field(default_factory=dict)


class SandboxBroken(Exception):
    pass


def tracked_files(root: Path) -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    )
    return [f for f in done.stdout.decode().split("\0") if f and (root / f).is_file()]


class Sandbox:
    def __init__(self, root: Path, home: Path, files: list[str], env: dict[str, str]) -> None:
        self.root = home
        self.server: subprocess.Popen[str] | None = None
        self.warm: subprocess.Popen[str] | None = None
        self.runs = {"warm": 0, "cold": 0}
        self.logs = home / ".mutate-logs"
        if home.exists():
            shutil.rmtree(home)
        for name in files:
            target = home / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target)
        self.env = {
            **env,
            "PYTHONPATH": os.pathsep.join([str(home), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            # A mutant and its original can share size and mtime second: no stale bytecode either way.
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def verify(self, package: str) -> None:
        done = subprocess.run(
            [sys.executable, "-c", f"import {package}; print({package}.__file__)"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
        )
        imported = Path(done.stdout.strip() or "?").resolve()
        if done.returncode != 0 or not imported.is_relative_to(self.root.resolve()):
            raise SandboxBroken(
                f"mutate: the sandbox imports {package} from {imported}, not from its copy {self.root}"
            )

    def run(self, mutant: Mutant | None, tests: list[str], timeout_s: float) -> Outcome:
        """Run `tests` with `mutant` applied (None: the code as it is), then put the file back."""
        if not tests:
            return Outcome("no-tests", 0.0, 0)
        target = self.root / mutant.path if mutant else None
        original = target.read_text() if target else ""
        if target and mutant:
            target.write_text(mutant.mutation.apply(original))
        try:
            if target and mutant and self.warm is not None and not mutant.mutation.at_import:
                swap = {"file": str(target), "line": mutant.mutation.line}
                outcome = self._pytest(tests, timeout_s, self.warm, swap)
                if outcome is not None:
                    self.runs["warm"] += 1
                    return outcome
            self.runs["cold"] += 1
            outcome = self._pytest(tests, timeout_s, self.server, None)
            assert outcome is not None  # only a swap fails over
            return outcome
        finally:
            if target:
                target.write_text(original)

    def start_server(self, modules: Path) -> None:
        """The launchers (forkserver.py) for this copy: a cold one preloading the third-party modules the
        probe listed, and, when it listed the project's too (`<modules>.project`), a warm one with those
        (left out if importing the project started a thread: a thread does not survive a fork)."""
        self.server = self._launch(modules)
        if self.server is None:
            raise SandboxBroken(f"mutate: preloading started a thread in the fork server of {self.root}")
        project = Path(f"{modules}.project")
        if project.is_file():
            self.warm = self._launch(modules, project)

    def _launch(self, *listings: Path) -> subprocess.Popen[str] | None:
        server = subprocess.Popen(
            [
                sys.executable,
                str(self.root / "tools/lattice/engines/mutate/forkserver.py"),
                *map(str, listings),
            ],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert server.stdout is not None
        ready = server.stdout.readline()
        if not ready:
            raise SandboxBroken(f"mutate: the fork server of {self.root} did not start")
        if json.loads(ready).get("threads", 1) != 1:
            server.terminate()
            server.wait(timeout=20)
            return None
        return server

    def close(self) -> None:
        for name in ("server", "warm"):
            server = getattr(self, name)
            setattr(self, name, None)
            if server is not None and server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()

    def _pytest(
        self,
        tests: list[str],
        timeout_s: float,
        server: subprocess.Popen[str] | None,
        swap: dict[str, object] | None,
    ) -> Outcome | None:
        if server is None:
            raise SandboxBroken("mutate: sandbox used before its fork server started")
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        args_file = self.logs / "tests.txt"
        args_file.write_text("\n".join(tests) + "\n")
        command = pytest_command(
            [f"@{args_file}"],
            suite=MUTANT_SUITE,
            logs=self.logs,
            extra=["-x", "-q", "-n", "0", "-W", "ignore::pytest.PytestAssertRewriteWarning"],
        )
        output_file = self.logs / "output.txt"
        request = {"args": command[3:], "timeout_s": timeout_s, "log": str(output_file), "swap": swap}
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        answer_line = server.stdout.readline()
        if not answer_line:
            raise SandboxBroken(f"mutate: the fork server of {self.root} died")
        answer = json.loads(answer_line)
        seconds = float(answer["seconds"])
        phases = _phases(output_file, seconds)
        if answer["timed_out"]:
            return Outcome("timeout", seconds, len(tests), detail=f"> {timeout_s:.0f} s", phases=phases)
        text = output_file.read_text(errors="replace") if output_file.is_file() else ""
        code = answer["exit"]
        if swap is not None and code == SWAP_FAILED:
            return None  # no function of the file held the line: the cold server imports the mutant
        failed = _first_failure(self.logs / f"{MUTANT_SUITE}.json")
        if code == 0:
            return Outcome("survived", seconds, len(tests), phases=phases)
        # The same tests passed on the unmutated copy (Sandbox.run(None, ...) before any mutant), so
        # any other end is the mutant's doing: a failing test, or an app that no longer imports or starts.
        return Outcome(
            "killed", seconds, len(tests), failed or f"start-up (pytest exit {code})", _tail(text), phases
        )


def _phases(output_file: Path, seconds: float) -> dict[str, float]:
    try:
        phases = {k: float(v) for k, v in json.loads(Path(f"{output_file}.phases.json").read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}  # killed past its time, or pytest never started
    phases["wait"] = max(seconds - sum(phases.values()), 0.0)
    return phases


def _first_failure(telemetry: Path) -> str | None:
    """The test that noticed the mutant, from the lattice's own per-test records."""
    if not telemetry.is_file():
        return None
    for row in telemetry.read_text().splitlines():
        record = json.loads(row)
        if record["outcome"] in ("failed", "error"):
            return str(record["test"])
    return None


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
