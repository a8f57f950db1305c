"""docs/troubleshooting.md quotes every one-line error the lattice raises, and nothing it no longer does.

The messages are read from the source by tools/lattice/report/errors.py; the tests below also prove
that reader on a module written for the purpose, so a rule it stops applying fails here too.
"""

from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path

from tests.docs.pages import ROOT
from tools.lattice.report.errors import (
    INTERNAL_ERRORS,
    USER_ERRORS,
    Found,
    documented,
    lattice_sources,
    read,
)

PAGE = ROOT / "docs" / "troubleshooting.md"


@cache
def _found() -> Found:
    return read(lattice_sources(ROOT))


def test_every_raised_message_is_on_the_page() -> None:
    templates = _found().templates()
    quoted = documented(PAGE.read_text())
    missing = [
        f"> `` {t} ``  ({', '.join(f'{m.path}:{m.line}' for m in sites)})"
        for t, sites in sorted(templates.items())
        if t not in quoted
    ]
    assert not missing, "docs/troubleshooting.md lacks (add each with its cause and fix):\n" + "\n".join(
        missing
    )
    assert len(templates) > 100  # the reader found the lattice's messages at all


def test_the_page_quotes_no_message_that_is_gone() -> None:
    templates = _found().templates()
    stale = sorted(documented(PAGE.read_text()) - set(templates))
    assert not stale, "docs/troubleshooting.md quotes messages no longer raised:\n" + "\n".join(stale)


def test_every_exception_class_is_decided() -> None:
    """Each exception class of the lattice is a user error (its messages quoted) or internal, with why."""
    defined = _found().exception_classes
    undecided = sorted(set(defined) - USER_ERRORS - set(INTERNAL_ERRORS))
    assert not undecided, (
        "tools/lattice/report/errors.py: put each in USER_ERRORS or INTERNAL_ERRORS: "
        + ", ".join(f"{name} ({defined[name]})" for name in undecided)
    )
    gone = sorted((USER_ERRORS | set(INTERNAL_ERRORS)) - set(defined))
    assert not gone, f"tools/lattice/report/errors.py names classes the lattice no longer has: {gone}"


SAMPLE = """
import sys

import pytest


class ServiceUnavailable(Exception):
    pass


class Unlisted(Exception):
    pass


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _fail(key: str, message: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"lattice: `{key}`: {message}")


def command(args: object, path: str) -> int:
    if path == "a":
        raise ServiceUnavailable(f"lattice: no set {path}; see `services status`")
    if path == "b":
        raise _fail("install.extras", f"{path} has no extra")
    if path == "c":
        return _usage("mutate: bad" if args else "mutate: worse")
    if path == "d":
        print(f"report: nothing under {path}")
        return 2
    if path == "e":
        raise pytest.UsageError("lattice: give a shard")
    print(f"fine: {path}")
    problems = [f"{path} exited 1"]
    problems.append("serial and -n 2 disagree")
    if problems:
        print("foreign: " + "; ".join(problems))
        return 1
    try:
        pass
    except OSError as exc:
        print(f"spec: {exc}", file=sys.stderr)
        raise Unlisted("not a user error") from None
    return 0
"""


def test_the_reader_finds_each_kind_of_message(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(textwrap.dedent(SAMPLE))
    found = read([(source, "sample.py")])
    assert set(found.templates()) == {
        "lattice: no set …; see `services status`",
        "lattice: `install.extras`: … has no extra",
        "mutate: bad",
        "mutate: worse",
        "report: nothing under …",
        "lattice: give a shard",
        "foreign: … exited 1",
        "foreign: serial and -n 2 disagree",
    }
    assert {"ServiceUnavailable", "Unlisted"} <= set(found.exception_classes)


def test_a_quoted_message_may_be_a_code_span() -> None:
    page = "> `` lattice: no set …; see `services status` ``\n>\n> lattice: plain …\n\nprose\n"
    assert documented(page) == {"lattice: no set …; see `services status`", "lattice: plain …"}
