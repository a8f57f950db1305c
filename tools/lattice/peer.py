"""`python -m tools.lattice peer`: schemathesis (pinned 4.32) against the app on a live port, a second
opinion on the contract suite.

A service set of its own, a fresh schema, uvicorn and a `retrace worker` in subprocesses, a user signed
in through the real OTP flow (code read from the Maildir). schemathesis gets the *session* token: an API
token would be revoked by its stateful phase (it finds ids via GET /v1/tokens), and `users-delete-me` is
excluded because it ends the account mid-run. The gate (tools/lattice/peergate.py) fails the command on
a failure openapi/peer-allowlist.toml does not list and on a listed one that no longer occurs.

`--contract PATH` runs the contract suite first, in the same session and timed the same way (a
subprocess's wall time, start-up included, over the generated requests it sent), so that logs/peer.json
puts both figures side by side; without it, the last run's logs/contract-cases.jsonl is read.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tools.lattice.accounts import Mailbox, sign_in
from tools.lattice.childenv import child_pytest_env
from tools.lattice.isolation import Plane, record_run
from tools.lattice.livestack import start_live_stack
from tools.lattice.naming import WorkerNames, new_run_id
from tools.lattice.peergate import ALLOWLIST, AllowlistError, failures, judge, load_allowlist
from tools.lattice.services import start_services
from tools.lattice.spec import DOCUMENT_PATH

SCHEMATHESIS_VERSION = "4.32"
RATE_GOAL = 1.5  # our cases/s over schemathesis', both timed in one session
EXCLUDED = ("users-delete-me",)


def _schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    if found is None:
        raise SystemExit(f"peer: schemathesis is not installed (extra `peer`, {SCHEMATHESIS_VERSION}.*)")
    return found


def _check_version() -> None:
    from importlib.metadata import version

    installed = version("schemathesis")
    if not installed.startswith(SCHEMATHESIS_VERSION + "."):
        raise SystemExit(f"peer: schemathesis {installed} found, pinned to {SCHEMATHESIS_VERSION}.*")


def run_contract(paths: list[str], logs: Path, workers: str) -> tuple[int, float]:
    """The contract suite as a subprocess: (its exit code, its wall seconds, start-up included)."""
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
    ]
    print(f"peer: our side first, in this session: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, env=child_pytest_env(), check=False)
    return done.returncode, time.perf_counter() - started


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
    contract_exit, contract_wall = (
        run_contract(args.contract, logs, args.contract_workers) if args.contract else (0, 0.0)
    )
    with start_services() as services:
        # A plane of its own run: if this is killed, the next lattice run on the set reaps it.
        plane = Plane(WorkerNames(new_run_id(), 0), services.database_url, services.redis_url)
        record_run(plane.names.run_id)
        try:
            plane.create()
            settings = plane.settings()
            with start_live_stack(settings, plane.names.directory / "logs", with_worker=True) as stack:
                with httpx.Client(base_url=stack.base_url, timeout=10.0) as client:
                    account = sign_in(client, Mailbox(plane.maildir), plane.names.email("peer"))
                command = [
                    _schemathesis(),
                    "run",
                    str(DOCUMENT_PATH),
                    "--url",
                    stack.base_url,
                    "--header",
                    f"Authorization: Bearer {account.session_token}",
                    "--checks",
                    "all",
                    *[arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)],
                    "--max-examples",
                    str(args.max_examples),
                    "--workers",
                    str(args.workers),
                    "--seed",
                    str(args.seed),
                    "--report",
                    "junit",
                    "--report-junit-path",
                    str(logs / "peer.xml"),
                    *args.extra,
                ]
                (logs / "peer.xml").unlink(missing_ok=True)  # the gate must not read an earlier run's
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                elapsed = time.perf_counter() - started
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
    print(f"peer: schemathesis {cases} cases in {elapsed:.1f}s = {rate:.1f} cases/s (exit {done.returncode})")
    for check, operation in verdict.allowlisted:
        print(f"peer:   allowlisted {check} {operation}")
    for check, operation in verdict.unlisted:
        print(f"peer:   NOT ALLOWLISTED {check} {operation}: fix the document or the service, or list it")
    for entry in verdict.stale:
        print(f"peer:   STALE allowlist entry {entry.check} {entry.operation}: it no longer fails; remove it")
    mine = ours(logs)
    ratio = None
    if mine and contract_wall:  # timed here, start-up included, like schemathesis above
        mine["cases_per_s_wall"] = mine["cases"] / contract_wall
        ratio = mine["cases_per_s_wall"] / rate if rate else None
    if mine:
        when = f"this session, {contract_wall:.1f}s" if contract_wall else "an earlier run"
        print(
            f"peer: contract suite ({when}, run {mine['run']}, {mine['workers']} worker(s)) {mine['cases']} "
            f"cases = {mine['cases_per_s_wall']:.1f} cases/s over its wall time "
            f"({mine['cases_per_s_busy']:.1f} per worker while sending); {mine['failures']} failing case(s)"
        )
        if ratio is not None:
            print(
                f"peer: ours / schemathesis = {ratio:.2f}x the cases per second (goal >= {RATE_GOAL}x; "
                "reported, not gated: both rates move with the machine's load)"
            )
    else:
        print("peer: no logs/contract-cases.jsonl yet: run `nox -s contract` for our side of the figures")
    if contract_exit:
        print(f"peer: the contract suite FAILED (exit {contract_exit}): see its output above")
    figures = {
        "cases": cases,
        "seconds": round(elapsed, 3),
        "cases_per_s": round(rate, 2),
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
        "passed": verdict.passed and not contract_exit,
    }
    (logs / "peer.json").write_text(json.dumps(figures) + "\n")
    print(f"peer: gate {'passed' if verdict.passed else 'FAILED'}; figures in {logs / 'peer.json'}")
    return 0 if figures["passed"] else 1


def add_peer_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("peer", help="schemathesis against the app on a live port")
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
