"""`python -m tools.lattice coverage`: coverage of app/ per suite and overall, what each suite alone
covers, HTML + XML + JSON under logs/coverage/, and the floor CI enforces.

The suites write logs/coverage/<suite>.coverage.<host>.<pid>.<random>, one piece per process (the
pytest process, its xdist workers, the live stack's subprocesses), when run with LATTICE_COVERAGE=1
(noxfile `_pytest_command`); each suite's pieces are combined here into logs/coverage/<suite>.coverage.
The floor is `[tool.coverage.report] fail_under` in pyproject.toml: one place, coverage.py's own
setting, on its total with branches.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path("logs/coverage")
SUMMARY = DATA_DIR / "coverage.json"  # the figure file `report merge` and `report alerts` read


def _load(data_file: Path) -> Any:
    from coverage import Coverage
    from coverage.exceptions import NoDataError

    cov = Coverage(data_file=str(data_file), config_file="pyproject.toml")
    cov.load()
    # The pieces: <suite>.coverage.<host>.<pid>.<random>. None left: an earlier call combined them.
    with contextlib.suppress(NoDataError):
        cov.combine(keep=False)
    cov.save()
    return cov


def _percent(cov: Any) -> float:
    return float(cov.report(file=io.StringIO(), ignore_errors=True))


def _lines(cov: Any) -> dict[str, set[int]]:
    data = cov.get_data()
    root = Path.cwd().resolve()
    out = {}
    for measured in data.measured_files():
        path = Path(measured)
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else measured
        out[name] = set(data.lines(measured) or ())
    return out


def run(args: argparse.Namespace) -> int:
    from coverage import Coverage

    # `.coverage` is the combined file of an earlier call, not a suite
    suites = sorted({p.name.split(".coverage")[0] for p in DATA_DIR.glob("?*.coverage*")})
    suite_files = [DATA_DIR / f"{suite}.coverage" for suite in suites]
    if not suite_files:
        print(f"lattice: no coverage data in {DATA_DIR}/: run suites with LATTICE_COVERAGE=1 first")
        return 2
    per_suite: dict[str, dict[str, Any]] = {}
    lines: dict[str, dict[str, set[int]]] = {}
    for file in suite_files:
        cov = _load(file)
        suite = file.name.removesuffix(".coverage")
        per_suite[suite] = {"percent": round(_percent(cov), 2)}
        lines[suite] = _lines(cov)
    for suite, mine in lines.items():
        others: dict[str, set[int]] = {}
        for other, theirs in lines.items():
            if other != suite:
                for name, covered in theirs.items():
                    others.setdefault(name, set()).update(covered)
        unique = {name: sorted(covered - others.get(name, set())) for name, covered in mine.items()}
        unique = {name: rows for name, rows in unique.items() if rows}
        per_suite[suite]["unique_lines"] = sum(len(rows) for rows in unique.values())
        per_suite[suite]["unique_by_file"] = dict(sorted(unique.items(), key=lambda kv: -len(kv[1]))[:5])

    combined = Coverage(data_file=str(DATA_DIR / ".coverage"), config_file="pyproject.toml")
    combined.erase()
    for file in suite_files:
        combined.combine([str(file)], keep=True)
    combined.save()
    total = _percent(combined)
    combined.html_report(directory=str(DATA_DIR / "html"), ignore_errors=True)
    combined.xml_report(outfile=str(DATA_DIR / "coverage.xml"), ignore_errors=True)
    combined.json_report(outfile=str(DATA_DIR / "report.json"), ignore_errors=True)
    totals = json.loads((DATA_DIR / "report.json").read_text())["totals"]
    configured = combined.get_option("report:fail_under")
    floor = float(configured) if isinstance(configured, (int, float, str)) else 0.0
    summary = {
        "percent": round(total, 2),
        "branch_percent": round(100 * totals["covered_branches"] / max(totals["num_branches"], 1), 2),
        "floor": floor,
        "passed": total >= floor,
        "suites": per_suite,
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'suite':<14} {'cover %':>8} {'only here (lines)':>18}")
    for suite, row in per_suite.items():
        print(f"{suite:<14} {row['percent']:>8.2f} {row['unique_lines']:>18}")
    print(f"{'all':<14} {total:>8.2f}   branches {summary['branch_percent']:.2f} %  (floor {floor:.0f} %)")
    print(f"report: {DATA_DIR}/html/index.html, coverage.xml, report.json; summary {SUMMARY}")
    failed = not summary["passed"]
    if failed:
        print(f"lattice: coverage {total:.2f} % is below the floor of {floor:.0f} % ([tool.coverage.report])")
    if args.diff_base:
        from tools.lattice.report.changed_coverage import changed_lines

        code, figures = changed_lines(DATA_DIR / "coverage.xml", args.diff_base, DATA_DIR)
        summary["changed_lines"] = {
            "base": args.diff_base,
            "lines": figures.get("total_num_lines"),
            "percent": figures.get("total_percent_covered"),
            "passed": code == 0,
        }
        SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
        if code:
            print(
                f"lattice: changed lines since {args.diff_base}: below [tool.diff_cover] fail_under (above)"
            )
            failed = True
    return 1 if failed else 0


def add_coverage_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("coverage", help="coverage of app/ per suite and overall, with the floor")
    parser.add_argument(
        "--diff-base",
        metavar="REF",
        help="also the lines changed since REF (diff-cover), with their floor [tool.diff_cover] fail_under",
    )
    parser.set_defaults(handler=run)
