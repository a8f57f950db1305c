"""`python -m tools.lattice peer`: schemathesis (pinned 4.32) against the app, a second opinion on the
contract suite, both on ONE transport: the app in the suite's own process, called through ASGI.

A service set of its own, a fresh schema, and schemathesis' own CLI run by tools/lattice/engines/peer/asgi.py,
which builds the app on that schema and hands it to schemathesis' ASGI transport (the contract suite
calls its app through a Starlette TestClient, the same kind of in-process call). A user is signed in
through the real OTP flow (code read from the Maildir). schemathesis gets the *session* token: an API
token would be revoked by its stateful phase (it finds ids via GET /v1/tokens), and `users-delete-me` is
excluded because it ends the account mid-run. The gate (tools/lattice/engines/peer/gate.py) fails the command
on a failure openapi/peer-allowlist.toml does not list and on a listed one that no longer occurs.

`--contract PATH` runs the contract suite first, in the same session and timed the same way: a
subprocess's wall time and the CPU seconds of it and every process it waited for (xdist workers
included), start-up included, over the generated requests it sent; logs/peer.json puts both suites'
cases per wall second and per CPU second side by side. Without it, the last run's
logs/contract-cases.jsonl is read (no CPU figure then). `--seed` fixes schemathesis' generation; its
stateful phase still varies with timing (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.lattice.chain.document import DOCUMENT_PATH
from tools.lattice.engines.peer.gate import ALLOWLIST, AllowlistError, failures, judge, load_allowlist
from tools.lattice.live.stack import settings_env
from tools.lattice.planes.isolation import Plane, record_run
from tools.lattice.planes.naming import WorkerNames, new_run_id
from tools.lattice.plugin.childenv import child_pytest_env
from tools.lattice.services import start_services

SCHEMATHESIS_VERSION = "4.32"
RATE_GOAL = 1.5  # our cases/s over schemathesis', both timed in one session
CPU_RATE_GOAL = 2.0  # our cases per CPU second over schemathesis', same transport (issue 30)
EXCLUDED = ("users-delete-me",)


def _require_schemathesis() -> None:
    beside = Path(sys.executable).parent / "schemathesis"
    if not beside.exists() and shutil.which("schemathesis") is None:
        raise SystemExit(f"peer: schemathesis is not installed (extra `peer`, {SCHEMATHESIS_VERSION}.*)")


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of every child process waited for so far, and of theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(command: list[str], **kwargs: Any) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run `command` to its end: (what it did, its wall seconds, the CPU seconds of it and its children)."""
    cpu, started = _children_cpu_s(), time.perf_counter()
    done: subprocess.CompletedProcess[str] = subprocess.run(command, check=False, text=True, **kwargs)
    return done, time.perf_counter() - started, _children_cpu_s() - cpu


def _check_version() -> None:
    from importlib.metadata import version

    installed = version("schemathesis")
    if not installed.startswith(SCHEMATHESIS_VERSION + "."):
        raise SystemExit(f"peer: schemathesis {installed} found, pinned to {SCHEMATHESIS_VERSION}.*")


def run_contract(paths: list[str], logs: Path, workers: str, seed: int) -> tuple[int, float, float]:
    """The contract suite as a subprocess: (its exit code, its wall and CPU seconds, start-up included)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "-n",
        workers,
        "--lattice-suite=contract",
        f"--lattice-logs={logs}",
        f"--junitxml={logs / 'contract.xml'}",
        # Seeded like schemathesis below, so that two sessions on one commit send the same cases.
        f"--hypothesis-seed={seed}",
    ]
    print(f"peer: our side first, in this session: {' '.join(command[1:])}", flush=True)
    done, wall, cpu = timed_run(command, env=child_pytest_env())
    return done.returncode, wall, cpu


def ours(logs: Path) -> dict[str, Any] | None:
    """The last contract run's figures from logs/contract-cases.jsonl (one line per xdist worker)."""
    path = logs / "contract-cases.jsonl"
    if not path.exists():
        return None
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]["run"]
    run = [line for line in lines if line["run"] == last]
    cases = sum(line["cases"] for line in run)
    case_seconds = sum(line["case_seconds"] for line in run)
    wall = max(line["session_seconds"] for line in run)
    return {
        "run": last,
        "workers": len(run),
        "cases": cases,
        "failures": sum(line["failures"] for line in run),
        "cases_per_s_busy": cases / case_seconds if case_seconds else 0.0,
        "cases_per_s_wall": cases / wall if wall else 0.0,
    }


def _summary(output: str) -> dict[str, Any]:
    """Figures from schemathesis' closing summary: the count of generated cases, which its JUnit XML does
    not carry (a report figure for the rate; the gate reads only the XML)."""
    figures: dict[str, Any] = {}
    match = re.search(r"(\d+) generated", output)
    if match:
        figures["cases"] = int(match.group(1))
    return figures


def run_peer(args: argparse.Namespace) -> int:
    _check_version()
    try:
        allowed = load_allowlist(Path(args.allowlist))
    except AllowlistError as exc:
        raise SystemExit(str(exc)) from None
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    contract_exit, contract_wall, contract_cpu = (
        run_contract(args.contract, logs, args.contract_workers, args.seed)
        if args.contract
        else (0, 0.0, 0.0)
    )
    _require_schemathesis()
    with start_services() as services:
        # A plane of its own run: if this is killed, the next lattice run on the set reaps it.
        plane = Plane(WorkerNames(new_run_id(), 0), services.database_url, services.redis_url)
        record_run(plane.names.run_id)
        try:
            plane.create()
            command = [
                sys.executable,
                "-m",
                "tools.lattice.engines.peer.asgi",
                str(DOCUMENT_PATH),
                "--checks",
                "all",
                *[arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)],
                "--max-examples",
                str(args.max_examples),
                "--workers",
                str(args.workers),
                "--seed",
                str(args.seed),
                # No example database: a run depends on the seed, the document and the code alone, not
                # on what earlier runs on this checkout happened to find (.schemathesis/ replays it).
                "--generation-database",
                "none",
                "--report",
                "junit",
                "--report-junit-path",
                str(logs / "peer.xml"),
                *args.extra,
            ]
            (logs / "peer.xml").unlink(missing_ok=True)  # the gate must not read an earlier run's
            env = {**os.environ, **settings_env(plane.settings())}
            done, elapsed, cpu = timed_run(command, capture_output=True, env=env)
        finally:
            plane.sweep()
    output = done.stdout + done.stderr
    (logs / "peer.txt").write_text(output)
    sys.stdout.write(output)
    cases = _summary(output).get("cases", 0)
    try:
        verdict = judge(failures(logs / "peer.xml"), allowed)
    except AllowlistError as exc:  # no XML: schemathesis stopped before writing it (its output is above)
        print(str(exc))
        return 1
    print("\npeer: ---- schemathesis vs the document's allowlist and the contract suite")
    rate = cases / elapsed if elapsed else 0.0
    cpu_rate = cases / cpu if cpu else 0.0
    print(
        f"peer: schemathesis (ASGI, in-process) {cases} cases in {elapsed:.1f}s wall, {cpu:.1f}s CPU = "
        f"{rate:.1f} cases/s wall, {cpu_rate:.1f} cases per CPU second (exit {done.returncode})"
    )
    for check, operation in verdict.allowlisted:
        print(f"peer:   allowlisted {check} {operation}")
    for check, operation in verdict.unlisted:
        print(f"peer:   NOT ALLOWLISTED {check} {operation}: fix the document or the service, or list it")
    for entry in verdict.stale:
        print(f"peer:   STALE allowlist entry {entry.check} {entry.operation}: it no longer fails; remove it")
    mine = ours(logs)
    ratio = cpu_ratio = None
    if mine and contract_wall:  # timed here, start-up included, like schemathesis above
        mine["cases_per_s_wall"] = mine["cases"] / contract_wall
        mine["cases_per_cpu_s"] = mine["cases"] / contract_cpu if contract_cpu else 0.0
        ratio = mine["cases_per_s_wall"] / rate if rate else None
        cpu_ratio = mine["cases_per_cpu_s"] / cpu_rate if cpu_rate else None
    if mine:
        when = f"this session, {contract_wall:.1f}s" if contract_wall else "an earlier run"
        print(
            f"peer: contract suite ({when}, run {mine['run']}, {mine['workers']} worker(s)) {mine['cases']} "
            f"cases = {mine['cases_per_s_wall']:.1f} cases/s over its wall time "
            f"({mine['cases_per_s_busy']:.1f} per worker while sending); {mine['failures']} failing case(s)"
        )
        if contract_cpu:
            print(
                f"peer: contract suite {contract_cpu:.1f}s CPU = "
                f"{mine['cases_per_cpu_s']:.1f} cases per CPU second"
            )
        if ratio is not None:
            print(
                f"peer: ours / schemathesis = {ratio:.2f}x the cases per wall second (goal >= {RATE_GOAL}x; "
                "reported, not gated: both rates move with the machine's load)"
            )
        if cpu_ratio is not None:
            print(
                f"peer: ours / schemathesis = {cpu_ratio:.2f}x the cases per CPU second, one transport "
                f"(goal >= {CPU_RATE_GOAL}x; printed, not gated: see docs/performance.md)"
            )
    else:
        print("peer: no logs/contract-cases.jsonl yet: run `nox -s contract` for our side of the figures")
    if contract_exit:
        print(f"peer: the contract suite FAILED (exit {contract_exit}): see its output above")
    figures = {
        "cases": cases,
        "seconds": round(elapsed, 3),
        "cases_per_s": round(rate, 2),
        "cpu_seconds": round(cpu, 3),
        "cases_per_cpu_s": round(cpu_rate, 2),
        "transport": "asgi",
        "failures": len(verdict.unlisted) + len(verdict.allowlisted),
        "allowlisted": len(verdict.allowlisted),
        "unlisted": [f"{check} {operation}" for check, operation in verdict.unlisted],
        "stale": [f"{entry.check} {entry.operation}" for entry in verdict.stale],
        "exit": done.returncode,
        "lattice_cases": mine["cases"] if mine else None,
        "lattice_cases_per_s": round(mine["cases_per_s_wall"], 2) if mine else None,
        "lattice_failures": mine["failures"] if mine else None,
        "lattice_seconds": round(contract_wall, 3) if contract_wall else None,
        "lattice_same_session": bool(contract_wall),
        "lattice_rate_ratio": round(ratio, 2) if ratio is not None else None,
        "lattice_cpu_seconds": round(contract_cpu, 3) if contract_cpu else None,
        "lattice_cases_per_cpu_s": round(mine["cases_per_cpu_s"], 2) if mine and contract_cpu else None,
        "lattice_cpu_rate_ratio": round(cpu_ratio, 2) if cpu_ratio is not None else None,
        "cpu_rate_goal": CPU_RATE_GOAL,
        "passed": verdict.passed and not contract_exit,
    }
    (logs / "peer.json").write_text(json.dumps(figures) + "\n")
    print(f"peer: gate {'passed' if verdict.passed else 'FAILED'}; figures in {logs / 'peer.json'}")
    return 0 if figures["passed"] else 1


def add_peer_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("peer", help="schemathesis against the app in-process (ASGI)")
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--logs", default="logs")
    parser.add_argument("--allowlist", default=str(ALLOWLIST), help="reviewed failures, each with a reason")
    parser.add_argument(
        "--contract",
        action="append",
        default=[],
        metavar="PATH",
        help="run the contract suite at PATH first, timed the same way (repeatable)",
    )
    parser.add_argument("--contract-workers", default="auto", help="its xdist workers (default auto)")
    parser.add_argument("extra", nargs="*", help="more schemathesis options, after --")
    parser.set_defaults(handler=run_peer)
