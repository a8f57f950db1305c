"""What the docs' commands must match: noxfile.py's sessions, and the lattice CLI as its `--help` says.

The sessions are read from noxfile.py's source (no nox needed in the test's environment). The CLI is
the parser `python -m tools.lattice` builds, walked in this process (its `--help` texts are made from
it; one `--help` is run to hold the two together): running each command's `--help` in a process of its
own costs ≈ 1 s each, most of the docs test's minute.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache

from tests.docs.pages import ROOT

CLI = ("python", "-m", "tools.lattice")


@dataclass(frozen=True)
class Session:
    name: str
    tags: frozenset[str]
    lattice_command: str | None  # `nox -s NAME -- ARGS` is `python -m tools.lattice CMD ARGS`
    runs_pytest: bool = False  # `nox -s NAME -- ARGS` passes ARGS to pytest (noxfile's `_pytest`)


@cache
def sessions() -> dict[str, Session]:
    """noxfile.py's sessions by name, with their tags and the CLI command each forwards to."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    found: dict[str, Session] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if ast.unparse(target) != "nox.session":
                continue
            keywords = {k.arg: k.value for k in call.keywords} if call else {}
            name = ast.literal_eval(keywords["name"]) if "name" in keywords else node.name
            tags = frozenset(ast.literal_eval(keywords["tags"])) if "tags" in keywords else frozenset()
            runs_pytest = any(
                isinstance(n, ast.Call) and ast.unparse(n.func) == "_pytest" for n in ast.walk(node)
            )
            found[name] = Session(name, tags, _forwarded(node), runs_pytest)
    return found


def _forwarded(function: ast.FunctionDef) -> str | None:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "_lattice" and len(node.args) > 1:
            command = node.args[1]
            if isinstance(command, ast.Constant) and isinstance(command.value, str):
                return command.value
    return None


def default_sessions() -> list[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions":
            value: list[str] = ast.literal_eval(node.value)
            return value
    return []


@dataclass(frozen=True)
class Help:
    """One command's `--help`: its subcommands and the options it takes."""

    subcommands: frozenset[str]
    options: frozenset[str]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(module: str, *args: str) -> str:
    """`python -m MODULE ARGS --help`'s text, run here as a user would (wide, so no line is folded)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"`python -m {module} --help` failed: {done.stderr.strip()[-500:]}"
    return done.stdout


@cache
def _tree() -> argparse.ArgumentParser:
    """The parser `python -m tools.lattice` builds (every command registered), after checking that the
    real command's `--help` lists the same commands."""
    from tools.lattice.cli import build_parser

    parser = build_parser()
    listed = set(re.findall(r"^ {4}(\w[\w-]*)", _help("tools.lattice"), re.M))
    assert listed == set(_subparsers(parser)), f"--help lists {sorted(listed)}, the parser has others"
    return parser


@cache
def cli_help(*path: str) -> Help:
    """What `python -m tools.lattice PATH... --help` shows: the subcommands and options of PATH."""
    parser = _tree()
    for word in path:
        parser = _subparsers(parser)[word]
    options = {o for action in parser._actions for o in action.option_strings}
    return Help(frozenset(_subparsers(parser)), frozenset(options))


def check_cli(args: list[str]) -> list[str]:
    """What in `python -m tools.lattice ARGS` the real CLI does not have: each problem one line."""
    top = cli_help()
    if not args or args[0] not in top.subcommands:
        shown = args[0] if args else "(nothing)"
        return [f"no command {shown!r} (the CLI has: {', '.join(sorted(top.subcommands))})"]
    path = [args[0]]
    for word in args[1:]:
        if word.startswith("-"):
            continue
        below = cli_help(*path).subcommands
        if not below:
            break  # a positional argument (a file, a ref)
        if word not in below:
            return [f"`{' '.join(path)}` has no subcommand {word!r} (it has: {', '.join(sorted(below))})"]
        path.append(word)
    known = set().union(*(cli_help(*path[:n]).options for n in range(1, len(path) + 1)))
    options = [w.split("=", 1)[0] for w in args[1:] if w.startswith("--")]
    return [f"`{' '.join(path)}` has no option {o}" for o in options if o not in known]


@cache
def pytest_options() -> frozenset[str]:
    """The long options `pytest --help` lists here: pytest's, every installed plugin's, and those each
    suite's conftest.py adds (given the suites' directories, pytest loads their conftests first)."""
    suites = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("tests/*/conftest.py"))
    return frozenset(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", _help("pytest", *suites)))


def check_pytest(args: list[str]) -> list[str]:
    """The long options in `pytest ARGS` that pytest here does not have."""
    known = pytest_options()
    options = [w.split("=", 1)[0] for w in args if w.startswith("--")]
    return [f"pytest has no option {o}" for o in options if o not in known]
