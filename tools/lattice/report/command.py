"""`python -m tools.lattice report merge DIR...`, `report alerts`, `report dashboard`, `report errors`,
`report modules`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tools.lattice.report.alerts import alerts, summary_markdown
from tools.lattice.report.collect import collect
from tools.lattice.report.errors import add_errors_command
from tools.lattice.report.html import render
from tools.lattice.report.merge import merge
from tools.lattice.report.modules import add_modules_command

DEFAULT_OUT = Path("logs/report")
HISTORY = Path("perf/history.jsonl")


def _merge(args: argparse.Namespace) -> int:
    directories = [Path(d) for d in args.directories]
    missing = [str(d) for d in directories if not d.is_dir()]
    if missing:
        print(f"lattice: report merge: no directory {', '.join(missing)}")
        return 2
    report = merge(collect(directories))
    if not report["tests"]:
        print(
            "lattice: report merge: no telemetry (logs/<suite>.json) under "
            + ", ".join(map(str, directories))
        )
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "index.html").write_text(render(report, Path(args.history)))
    width = max([len(name) for name in report["suites"]] + [3])
    for name, suite in report["suites"].items():
        balance = f", shard balance {suite['shard_balance']}" if suite["shard_balance"] else ""
        counts = f"{suite['tests']:>5} tests {suite['time_s']:>8.1f} s"
        print(f"{name:<{width}} {counts}  {suite['outcomes']}{balance}")
    print(f"{'all':<{width}} {report['tests']:>5} tests {report['time_s']:>8.1f} s  {report['outcomes']}")
    if report["repeats"]:
        print(
            f"lattice: {len(report['repeats'])} test(s) recorded more than once "
            "(a retry or an overlapping shard)"
        )
    print(f"report: {out / 'report.json'}, {out / 'index.html'}")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    path = Path(args.report)
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        print(f"lattice: report alerts: no merged report at {path} (run `report merge` first)")
        return 2
    found = alerts(report)
    for alert in found:
        print(alert.annotation())
    if args.summary:
        with Path(args.summary).open("a") as out:
            out.write(summary_markdown(report, found))
    print(f"lattice: {len(found)} alert(s)")
    return 1 if found and not args.no_fail else 0


def _dashboard(args: argparse.Namespace) -> int:
    from tools.lattice.report.dashboard import DASHBOARD_FILE, render

    text = render()
    if args.check:
        if not DASHBOARD_FILE.is_file() or DASHBOARD_FILE.read_text() != text:
            print(
                f"lattice: {DASHBOARD_FILE} is not what the panels build: "
                "run `python -m tools.lattice report dashboard` to rewrite it"
            )
            return 1
        print(f"lattice: {DASHBOARD_FILE} is current")
        return 0
    DASHBOARD_FILE.parent.mkdir(parents=True, exist_ok=True)
    DASHBOARD_FILE.write_text(text)
    print(f"lattice: wrote {DASHBOARD_FILE}")
    return 0


def add_report_commands(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="merge shards' and suites' logs into one report; alerts")
    sub = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    merge_cmd = sub.add_parser("merge", help="combine logs directories into logs/report/")
    merge_cmd.add_argument("directories", nargs="+", help="logs directories (one per shard, job or suite)")
    merge_cmd.add_argument("--out", default=str(DEFAULT_OUT), help="where to write (default: %(default)s)")
    merge_cmd.add_argument(
        "--history", default=str(HISTORY), help="perf history to plot (default: %(default)s)"
    )
    merge_cmd.set_defaults(handler=_merge)
    alerts_cmd = sub.add_parser("alerts", help="::error lines (and a job summary) for what the report shows")
    alerts_cmd.add_argument("--report", default=str(DEFAULT_OUT / "report.json"))
    alerts_cmd.add_argument("--summary", help="append a Markdown summary here (GitHub: $GITHUB_STEP_SUMMARY)")
    alerts_cmd.add_argument("--no-fail", action="store_true", help="exit 0 even when there are alerts")
    alerts_cmd.set_defaults(handler=_alerts)
    dashboard = sub.add_parser("dashboard", help="write the Grafana dashboard from the telemetry's fields")
    dashboard.add_argument(
        "--check", action="store_true", help="only check that the committed one is current"
    )
    dashboard.set_defaults(handler=_dashboard)
    add_errors_command(sub)
    add_modules_command(sub)
