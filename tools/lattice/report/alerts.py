"""Alerts from a merged report: schema drift, contract violations, perf and queue regressions, coverage
drops and test failures, as GitHub annotations (`::error`) and a Markdown job summary.

Each figure file is read for the verdict its own tool wrote (`passed`, `regressions`, `floor`), so the
alert says what the suite itself decided, not a second opinion with other thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DRIFT_TESTS = ("tests/contract/test_chain.py", "tests/contract/test_api_md.py")


@dataclass(frozen=True)
class Alert:
    kind: str  # schema-drift | contract | perf | queue | coverage | mutation | failure
    title: str
    detail: str

    def annotation(self) -> str:
        detail = self.detail.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::error title={self.kind}: {self.title}::{detail}"


def _figure_failed(figure: dict[str, Any]) -> bool:
    return figure.get("passed") is False or bool(figure.get("regressions"))


def alerts(report: dict[str, Any]) -> list[Alert]:
    found: list[Alert] = []
    for failure in report["failures"]:
        test = failure["test"]
        if test.startswith(DRIFT_TESTS):
            found.append(
                Alert("schema-drift", test, failure["message"] or "the document and the app disagree")
            )
        elif test.startswith("tests/perf/"):
            # the perf suite's gates are its tests: a failed one is a regression (ratios, jobs/s, p95)
            kind = "queue" if "queue" in test or "ingest" in test else "perf"
            found.append(Alert(kind, test, failure["message"]))
        elif test.startswith("tests/contract/"):
            found.append(
                Alert("contract", test, failure["message"] + ("\n" + failure["reproduction"]).rstrip())
            )
        else:
            found.append(
                Alert("failure", test, failure["message"] + ("\n" + failure["reproduction"]).rstrip())
            )
    figures = report["figures"]
    for peer in figures.get("peer", []):
        if _figure_failed(peer):
            found.append(
                Alert("contract", "schemathesis found what the allowlist does not name", peer["source"])
            )
    for perf in figures.get("perf", []):
        for regression in perf.get("regressions", []) or (
            [] if perf.get("passed") is not False else ["gate"]
        ):
            name = regression if isinstance(regression, str) else str(regression.get("figure", regression))
            kind = "queue" if "ingest" in name or "jobs" in name else "perf"
            found.append(Alert(kind, f"{name} regressed", perf["source"]))
    for coverage in figures.get("coverage", []):
        total, floor = coverage.get("percent"), coverage.get("floor")
        if isinstance(total, (int, float)) and isinstance(floor, (int, float)) and total < floor:
            found.append(
                Alert("coverage", f"branch coverage {total:.1f} % < floor {floor} %", coverage["source"])
            )
    for mutate in figures.get("mutate", []):
        if mutate.get("passed") is False:
            found.append(
                Alert(
                    "mutation",
                    f"mutation score {mutate.get('score')} below floor {mutate.get('floor')} %",
                    mutate["source"],
                )
            )
    return found


def summary_markdown(report: dict[str, Any], found: list[Alert]) -> str:
    lines = [
        "## Lattice",
        f"{report['tests']} tests · "
        + ", ".join(f"{n} {o}" for o, n in sorted(report["outcomes"].items()))
        + f" · {report['time_s']} s",
        "",
        "| suite | tests | outcomes | time s | shard balance |",
        "|---|---|---|---|---|",
    ]
    for name, suite in report["suites"].items():
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(suite["outcomes"].items()))
        balance = suite["shard_balance"] or "-"
        lines.append(f"| {name} | {suite['tests']} | {outcomes} | {suite['time_s']} | {balance} |")
    lines.append("")
    if found:
        lines.append(f"### {len(found)} alert(s)")
        lines.extend(f"- **{a.kind}** {a.title}" for a in found)
    else:
        lines.append("No alerts.")
    if report["repeats"]:
        lines.append(
            f"\n{len(report['repeats'])} test(s) recorded more than once (see logs/report/report.json)."
        )
    return "\n".join(lines) + "\n"
