"""`python -m tools.lattice mutate`: mutants of `app/`, each run against the tests that cover it; a report.

Steps: choose the mutants (changed lines, a seeded sample, or one file); make sure the coverage map
(which test runs which line) matches the code, building it if not; start one service set; copy the
project once per runner; run each mutant's covering tests in its runner's copy, in parallel, each
pytest process on a plane of its own; write logs/mutate.json and print the summary.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tools.lattice.config import fast_temp_root
from tools.lattice.engines.mutate import coverage_map, equivalents, prefilter, report, seeds, uses, verify
from tools.lattice.engines.mutate.probe import LISTING_ENV
from tools.lattice.engines.mutate.report import Result
from tools.lattice.engines.mutate.runs import pytest_command
from tools.lattice.engines.mutate.sandbox import Outcome, Sandbox, SandboxBroken, tracked_files
from tools.lattice.engines.mutate.scope import Mutant, ScopeError
from tools.lattice.engines.mutate.selection import select
from tools.lattice.services import interrupts
from tools.lattice.services.tiers import start_services

PACKAGE = "app"
DEFAULT_SUITES = ["unit", "integration", "regression"]
WORKDIR = Path("logs/mutate")


def add_mutate_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mutate",
        help="mutation testing of app/ against the suites (see docs/testing.md)",
        description="Mutate app/ and count how many mutants some test notices.",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--base", metavar="REF", help="mutate lines changed since REF (default: merge-base with main)"
    )
    how.add_argument("--sample", type=int, metavar="N", help="a random sample of N mutants across app/")
    how.add_argument("--path", metavar="FILE", help="every mutant of one file, e.g. app/routes/tokens.py")
    how.add_argument("--all", action="store_true", help="every mutant of app/ (the nightly run)")
    how.add_argument("--keys", metavar="K1,K2", help="the mutants of app/ with these keys (a survivor again)")
    parser.add_argument(
        "--seed",
        default=None,
        metavar="N|commit[:K]",
        help="seed of --sample: an integer, or drawn from the commit's hash (the default; "
        "commit:1, commit:2 ... are further samples of the same commit)",
    )
    parser.add_argument(
        "--suites",
        default=",".join(DEFAULT_SUITES),
        help="suites whose tests may kill (default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="mutants run at once (default: cores)"
    )
    parser.add_argument(
        "--floor", type=float, default=0.0, help="fail below this score, in percent (default 0)"
    )
    parser.add_argument(
        "--timeout-factor", type=float, default=3.0, help="a mutant's time limit ÷ its tests' normal time"
    )
    parser.add_argument("--annotations", action="store_true", help="print survivors as GitHub ::error lines")
    parser.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="N",
        help="then run N of the mutants against every test (no map) and report where the verdicts differ",
    )
    parser.add_argument(
        "--fresh-map", action="store_true", help="rebuild the coverage map even if the code is unchanged"
    )
    parser.set_defaults(handler=run)


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    root = Path.cwd()
    suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    missing = [s for s in suites if not (root / "tests" / s).is_dir()]
    if missing or args.workers < 1 or (args.sample is not None and args.sample < 1) or args.verify < 0:
        return _usage(
            f"mutate: no suite {', '.join(missing)} under tests/"
            if missing
            else "mutate: --workers and --sample must be ≥ 1, --verify ≥ 0"
        )
    started = time.perf_counter()
    try:
        reviewed = equivalents.load(root / equivalents.EQUIVALENTS_FILE)
        sampled = args.sample is not None or (args.verify > 0 and args.base is None and args.path is None)
        seed, seed_from = seeds.resolve(root, args.seed) if sampled else (None, "")
        mutants, how, removed = select(
            root,
            PACKAGE,
            base=args.base,
            path=args.path,
            sample=args.sample,
            seed=seed or 0,
            every=args.all,
            keys=[k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None,
        )
    except (ScopeError, equivalents.EquivalentsError, seeds.SeedError) as exc:
        return _usage(str(exc))
    if seed is not None:
        # Printed first: a run someone wants to repeat is `--seed` this number.
        print(f"mutate: seed {seed} (from {seed_from}); repeat with --seed {seed}", flush=True)
    print(f"mutate: {len(mutants)} mutants: {how}", flush=True)
    filtered = prefilter.counts(removed)
    print(
        "mutate: removed before running, as unable to change behaviour: "
        + ", ".join(f"{n} {rule}" for rule, n in filtered.items()),
        flush=True,
    )
    header = {"seed": seed, "seed_from": seed_from or None, "filtered": filtered}
    if not mutants:
        summary = report.as_json([], scope=how, wall_s=0.0, floor=args.floor, extra=header)
        report.write(summary, root / "logs" / "mutate.json")
        print("mutate: nothing to mutate; report: logs/mutate.json")
        return 0
    interrupts.install()
    try:
        with start_services() as services:
            env = {
                **os.environ,
                "LATTICE_PROVIDER": "external",
                "LATTICE_DATABASE_URL": services.database_url,
                "LATTICE_REDIS_URL": services.redis_url,
            }
            results, extra = _run_all(root, args, suites, mutants, reviewed, env, seed or 0)
    except KeyboardInterrupt:
        print("mutate: interrupted; nothing written", file=sys.stderr)
        return 130
    except (coverage_map.MapFailed, SandboxBroken) as exc:
        return _usage(str(exc))
    summary = report.as_json(
        results, scope=how, wall_s=time.perf_counter() - started, floor=args.floor, extra={**header, **extra}
    )
    report.write(summary, root / "logs" / "mutate.json")
    seeds.append_history(root, summary)
    for line in report.summary_lines(summary):
        print(line)
    if (trend := seeds.history_line(seeds.history(root))) is not None:
        print(trend)
    if args.annotations:
        for line in report.github_annotations(summary):
            print(line)
    print("report: logs/mutate.json")
    if not summary["passed"]:
        print(
            f"mutate: score {summary['score']:.1%} is below the floor of {args.floor:.0f} %", file=sys.stderr
        )
        return 1
    return 0


def _coverage(
    root: Path, args: argparse.Namespace, suites: list[str], env: dict[str, str]
) -> tuple[coverage_map.CoverageMap, bool]:
    workdir = root / WORKDIR
    workdir.mkdir(parents=True, exist_ok=True)
    # The suites' own folders and the helpers beside them, not the suites the map does not run.
    others = tuple(
        p.relative_to(root).as_posix()
        for p in (root / "tests").glob("*/**/*.py")
        if p.relative_to(root / "tests").parts[0] not in {*suites, "contract"}
    )
    fingerprint = coverage_map.fingerprint(
        root, [PACKAGE, "tests", "tools"], coverage_map.NOT_MEASURED + others
    )
    fingerprint += ":" + ",".join(suites)
    saved = coverage_map.CoverageMap.load(workdir / "map.json")
    if saved is not None and saved.fingerprint == fingerprint and not args.fresh_map:
        return saved, True
    print(f"mutate: measuring which test runs which line ({', '.join(suites)} under coverage)...", flush=True)
    built = coverage_map.build(root, PACKAGE, suites, str(max(args.workers, 1)), workdir, env)
    built.fingerprint = fingerprint
    built.save(workdir / "map.json")
    print(f"mutate: coverage map of {len(built.tests)} tests in {built.built_in_s} s", flush=True)
    return built, False


def _run_all(
    root: Path,
    args: argparse.Namespace,
    suites: list[str],
    mutants: list[Mutant],
    reviewed: dict[str, str],
    env: dict[str, str],
    seed: int,
) -> tuple[list[Result], dict[str, Any]]:
    before_map = time.perf_counter()
    cmap, reused = _coverage(root, args, suites, env)
    after_map = time.perf_counter()
    sources = {m.path: (root / m.path).read_text() for m in mutants}
    base = Path(tempfile.mkdtemp(prefix="retrace-mutate-", dir=fast_temp_root()))
    files = tracked_files(root)
    sandboxes: queue.Queue[Sandbox] = queue.Queue()
    try:
        for i in range(args.workers):
            sandboxes.put(Sandbox(root, base / f"r{i}", files, env))
        first = sandboxes.get()
        first.verify(PACKAGE)
        modules = _probe(first, suites, root / WORKDIR, cmap.fingerprint)
        for sandbox in [*list(sandboxes.queue), first]:
            sandbox.start_server(modules)
        startup_s = _startup(first, cmap)
        sandboxes.put(first)
        print(f"mutate: {args.workers} runner(s), pytest start-up {startup_s:.1f} s", flush=True)
        ready = time.perf_counter()
        results = _dispatch(mutants, cmap, reviewed, sources, sandboxes, args, startup_s)
        done = time.perf_counter()
        mutants_s = done - after_map
        checked = _verify(results, cmap, suites, sandboxes, args, startup_s, seed) if args.verify else None
        verified = time.perf_counter()
    finally:
        servers = {"warm": 0, "cold": 0}
        while not sandboxes.empty():
            sandbox = sandboxes.get()
            servers = {k: n + sandbox.runs[k] for k, n in servers.items()}
            sandbox.close()
        shutil.rmtree(base, ignore_errors=True)
    extra = {
        "suites": suites,
        "map": {"tests": len(cmap.tests), "built_in_s": cmap.built_in_s, "reused": reused},
        "startup_s": round(startup_s, 2),
        "time_s": {
            "map": round(after_map - before_map, 1),
            # the copies, the probe, the fork servers, the unmutated start
            "set-up": round(ready - after_map, 1),
            "mutants": round(done - ready, 1),
            **({"verify": round(verified - done, 1)} if checked is not None else {}),
        },
        # pytest runs by fork server: warm (the mutant's function swapped in) or cold (the file imported)
        "runs_by_server": servers,
        # The rate without the map's build (reused on an unchanged tree): copies, probe, mutants.
        "mutants_wall_s": round(mutants_s, 1),
        "mutants_per_s_without_map": round(
            sum(r.status not in ("equivalent", "no-tests") for r in results) / mutants_s, 3
        ),
        **({"verify": checked} if checked is not None else {}),
    }
    return results, extra


def _verify(
    results: list[Result],
    cmap: coverage_map.CoverageMap,
    suites: list[str],
    sandboxes: queue.Queue[Sandbox],
    args: argparse.Namespace,
    startup_s: float,
    seed: int,
) -> dict[str, Any]:
    chosen = verify.choose(results, args.verify, seed)
    tests = verify.everything(cmap.tests, cmap.durations, suites)
    # The whole-process suites have no durations in the map: a generous allowance for them.
    normal_s = startup_s + sum(cmap.durations.values()) + 120.0 * (len(tests) - len(cmap.tests))
    print(f"mutate: --verify: {len(chosen)} mutants against all {len(tests)} tests and suites", flush=True)
    checked = verify.run(chosen, tests, sandboxes, args.timeout_factor * normal_s + 60, args.workers, print)
    print(
        f"mutate: --verify: the map and the full run agree on {checked['agree']} of {checked['mutants']}",
        flush=True,
    )
    return checked


def _probe(sandbox: Sandbox, suites: list[str], workdir: Path, fingerprint: str) -> Path:
    """Collect the tests once: which third-party modules they import (the fork servers preload them).
    Kept beside the map, and like the map reused while the code and tests are unchanged."""
    kept, kept_for = workdir / "modules.txt", workdir / "modules.fingerprint"
    fresh = kept.is_file() and Path(f"{kept}.project").is_file() and kept_for.is_file()
    if fingerprint and fresh and kept_for.read_text() == fingerprint:
        return kept
    listing = sandbox.root.parent / "modules.txt"
    command = pytest_command(
        coverage_map.targets(suites),
        suite="mutate-probe",
        logs=sandbox.root.parent / "probe-logs",
        extra=["--co", "-q", "-p", "tools.lattice.engines.mutate.probe"],
    )
    done = subprocess.run(
        command,
        cwd=sandbox.root,
        env={**sandbox.env, LISTING_ENV: str(listing)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not listing.is_file():
        raise SandboxBroken(
            f"mutate: collecting the tests in the sandbox failed: {done.stdout.strip()[-300:]}"
        )
    shutil.copyfile(listing, kept)
    if Path(f"{listing}.project").is_file():
        shutil.copyfile(f"{listing}.project", f"{kept}.project")
    kept_for.write_text(fingerprint)
    return kept


def _startup(sandbox: Sandbox, cmap: coverage_map.CoverageMap) -> float:
    """Run the fastest test unmutated: the copy works, and what a pytest start costs here."""
    if not cmap.tests:
        raise SandboxBroken("mutate: the coverage map has no passing test")
    fastest = min(cmap.tests, key=lambda t: cmap.durations.get(t, 1.0))
    outcome = sandbox.run(None, [fastest], timeout_s=300)
    if outcome.status != "survived":
        raise SandboxBroken(f"mutate: {fastest} fails in the sandbox without any mutant: {outcome.detail}")
    return outcome.seconds - cmap.durations.get(fastest, 0.0)


def _dispatch(
    mutants: list[Mutant],
    cmap: coverage_map.CoverageMap,
    reviewed: dict[str, str],
    sources: dict[str, str],
    sandboxes: queue.Queue[Sandbox],
    args: argparse.Namespace,
    startup_s: float,
) -> list[Result]:
    def one(mutant: Mutant) -> Result:
        m = mutant.mutation
        tests = cmap.tests_for(mutant.path, m.line, m.end_line, m.at_import)
        if m.at_import:
            # and the tests of the code reading the value: `LIMIT = 5` is noticed where LIMIT is compared
            found = cmap.tests_of_uses(uses.use_lines(Path.cwd(), PACKAGE, mutant.path, m.line, m.end_line))
            tests = cmap.ordered(found | set(tests))
        diff = mutant.diff(sources[mutant.path])
        if mutant.key in reviewed:
            return Result(mutant, Outcome("equivalent", 0.0, 0, detail=reviewed[mutant.key]), diff, tests)
        budget = args.timeout_factor * (startup_s + sum(cmap.durations.get(t, 1.0) for t in tests)) + 10
        sandbox = sandboxes.get()
        try:
            return Result(mutant, sandbox.run(mutant, tests, budget), diff, tests)
        finally:
            sandboxes.put(sandbox)

    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one, m) for m in mutants]
        try:
            for n, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                results.append(result)
                by = f", by {result.outcome.killed_by}" if result.outcome.killed_by else ""
                print(
                    f"[{n}/{len(mutants)}] {result.status:<10} {result.mutant.label} "
                    f"({result.outcome.tests_run} tests, {result.outcome.seconds:.1f} s{by})",
                    flush=True,
                )
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    results.sort(key=lambda r: (r.mutant.path, r.mutant.mutation.start))
    return results
