"""A warm pytest launcher for one sandbox: third-party modules imported once, one fork per mutant.

A cold `python -m pytest` spends most of its ≈ 5 s importing FastAPI, SQLAlchemy, Hypothesis and
pytest's plugins, none of which a mutant of `app/` changes. This server imports them once (the list
comes from a collection-only probe of the same tests), then forks a child per request; the child
imports the project's own packages fresh, so it sees the mutant on disk, and runs pytest.main.
The project's packages are never imported here: a fork would inherit the unmutated modules.

A warm server (a second listing: the project's modules, tests and app included) imports those too,
and serves the mutants of function bodies: its child, before pytest starts, swaps the code of the
function holding the mutant for the mutant's (`__code__` of every function object made from it, so
every reference sees it: a route's endpoint, an actor, a method); the file on disk is the mutant too,
for the processes the tests start. A mutant run at import (a module constant, a decorator, a default)
cannot be swapped in: the cold server runs it. A child that finds no function to swap exits with
SWAP_FAILED and the sandbox asks the cold server.

Protocol, one JSON line each way: {"args": [...], "timeout_s": t, "log": path, "swap": {"file": path,
"line": n} (optional)} ->
{"exit": code | null, "timed_out": bool, "seconds": s}. Run it as a script, not a module, so
importing it imports nothing of the project.
"""

import contextlib
import json
import os
import signal
import sys
import threading
import time
import types

if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)  # the script's folder is not a place to import from


PHASES_SUFFIX = ".phases.json"  # beside a request's log: where its time went (_Phases)
SWAP_FAILED = 98
CO_OPTIMIZED = 0x1  # a function's code, not a class body's or a module's


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


def _lines(code: types.CodeType) -> set[int]:
    """The lines of a code object and of the code nested in it (a class body's methods)."""
    found = {code.co_firstlineno, *(n for _, _, n in code.co_lines() if n is not None)}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _lines(const)
    return found


def _outermost_function(code: types.CodeType, line: int) -> types.CodeType | None:
    """The outermost function's code holding `line`, through class bodies (a nested function or a
    comprehension is made anew from its outer function's constants, so swapping the outer one is enough)."""
    for const in code.co_consts:
        if not isinstance(const, types.CodeType):
            continue
        lines = _lines(const)
        if not lines or not min(lines) <= line <= max(lines):
            continue
        if const.co_flags & CO_OPTIMIZED:
            return const
        found = _outermost_function(const, line)
        if found is not None:
            return found
    return None


def _swap(file: str, line: int) -> int:
    """Put the mutant's code (the file on disk) into every function object made from the original."""
    import gc

    with open(file) as source:
        mutant = _outermost_function(compile(source.read(), file, "exec", dont_inherit=True), line)
    if mutant is None:
        return 0
    real = os.path.realpath(file)
    same_file: dict[str, bool] = {}
    swapped = 0
    for obj in gc.get_objects():
        if type(obj) is not types.FunctionType:
            continue
        code = obj.__code__
        if code.co_qualname != mutant.co_qualname or code.co_firstlineno != mutant.co_firstlineno:
            continue
        if code.co_filename not in same_file:
            same_file[code.co_filename] = os.path.realpath(code.co_filename) == real
        if same_file[code.co_filename]:
            if code in _RAN_AT_IMPORT:
                return 0  # its mutant would change what the import made: only a fresh import shows it
            obj.__code__ = mutant.replace(co_filename=code.co_filename)
            swapped += 1
    return swapped


def _child(args: list[str], log: str, swap: dict[str, object] | None) -> None:
    os.setsid()
    phases = _Phases(log + PHASES_SUFFIX)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    code = 3
    try:
        if swap is not None:
            try:
                swapped = _swap(str(swap["file"]), int(str(swap["line"])))
            except (ValueError, SyntaxError, OSError) as exc:  # e.g. a closure of another size
                print(f"mutate: no swap: {exc}", flush=True)
                swapped = 0
            if not swapped:
                code = SWAP_FAILED
                return
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
_RAN_AT_IMPORT: set[types.CodeType] = set()


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
    if len(sys.argv) > 2:
        # Which of the project's functions run while it is imported (a helper building a model's columns,
        # a decorator factory): what they made is made already, so their mutants go to the cold server.
        def record(frame: types.FrameType, event: str, arg: object) -> None:
            if event == "call":
                _RAN_AT_IMPORT.add(frame.f_code)

        sys.setprofile(record)
        try:
            loaded += _preload(sys.argv[2])
        finally:
            sys.setprofile(None)
    print(json.dumps({"ready": True, "preloaded": loaded, "threads": threading.active_count()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _child(request["args"], request["log"], request.get("swap"))
        _current["pid"] = pid
        code, timed_out = _wait(pid, float(request["timeout_s"]))
        _current.pop("pid", None)
        seconds = time.perf_counter() - started
        print(json.dumps({"exit": code, "timed_out": timed_out, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
