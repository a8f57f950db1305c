"""A warm pytest launcher for one sandbox: third-party modules imported once, one fork per mutant.

A cold `python -m pytest` spends most of its ≈ 5 s importing FastAPI, SQLAlchemy, Hypothesis and
pytest's plugins, none of which a mutant of `app/` changes. This server imports them once (the list
comes from a collection-only probe of the same tests), then forks a child per request; the child
imports the project's own packages fresh, so it sees the mutant on disk, and runs pytest.main.
The project's packages are never imported here: a fork would inherit the unmutated modules.

Protocol, one JSON line each way: {"args": [...], "timeout_s": t, "log": path} ->
{"exit": code | null, "timed_out": bool, "seconds": s}. Run it as a script, not a module, so
importing it imports nothing of the project.
"""

import contextlib
import json
import os
import signal
import sys
import time

if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)  # the script's folder is not a place to import from


PHASES_SUFFIX = ".phases.json"  # beside a request's log: where its time went (_Phases)


def _preload(listing: str) -> int:
    import warnings

    loaded = 0
    # Import-time warnings belong to the children's pytest runs, which see them again if they matter.
    with warnings.catch_warnings(), open(listing) as names:
        warnings.simplefilter("ignore")
        for name in names.read().split():
            try:
                __import__(name)
            except Exception:  # noqa: S112 - a module that will not preload is imported by the child
                continue
            loaded += 1
    return loaded


class _Phases:
    """Where a mutant's pytest spends its time, written beside its log for the run's breakdown: start
    (the project and the test modules imported, collected), fixtures (setup and teardown, the session's
    bootstrap in the first), tests (the test bodies) and exit (the session's end: plane sweep, close)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.started = time.perf_counter()
        self.collected = self.last = 0.0
        self.fixtures = self.tests = 0.0

    def pytest_collection_finish(self) -> None:
        self.collected = time.perf_counter()

    def pytest_runtest_logreport(self, report: object) -> None:
        duration = float(getattr(report, "duration", 0.0))
        if getattr(report, "when", "") == "call":
            self.tests += duration
        else:
            self.fixtures += duration

    def pytest_runtest_logfinish(self) -> None:
        self.last = time.perf_counter()

    def write(self) -> None:
        end = time.perf_counter()
        collected = self.collected or end
        phases = {
            "start": collected - self.started,
            "fixtures": self.fixtures,
            "tests": self.tests,
            "exit": end - (self.last or collected),
        }
        with open(self.path, "w") as out:
            json.dump({k: round(v, 4) for k, v in phases.items()}, out)


def _child(args: list[str], log: str) -> None:
    os.setsid()
    phases = _Phases(log + PHASES_SUFFIX)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    code = 3
    try:
        import pytest

        code = int(pytest.main(args, plugins=[phases]))
    finally:
        with contextlib.suppress(OSError):
            phases.write()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout_s: float) -> tuple[int | None, bool]:
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    # SIGTERM first: the lattice's plugin sweeps its plane on the way out.
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return None, True
            time.sleep(0.05)
    return None, True


_current: dict[str, int] = {}


def _on_sigterm(signum: int, frame: object) -> None:
    """Stopped (Ctrl-C upstream): stop the running mutant's pytest too, then go."""
    pid = _current.get("pid")
    if pid:
        try:
            os.killpg(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    os._exit(143)


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    loaded = _preload(sys.argv[1])
    print(json.dumps({"ready": True, "preloaded": loaded}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _child(request["args"], request["log"])
        _current["pid"] = pid
        code, timed_out = _wait(pid, float(request["timeout_s"]))
        _current.pop("pid", None)
        seconds = time.perf_counter() - started
        print(json.dumps({"exit": code, "timed_out": timed_out, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
