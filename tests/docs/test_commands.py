"""Every command the docs show exists as shown: nox sessions and tags, the lattice CLI's commands and
options (from its real `--help`), the modules `python -m` names; marked blocks are run."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.docs.commands import check_cli, check_pytest, sessions
from tests.docs.pages import ROOT, Command, commands, pages, repo_path, resolves, shown, spans

ALL_COMMANDS = [c for page in pages() for c in commands(page)]
# nox's own options that take a value (the value is not a session name)
NOX_VALUED = {"-P", "--force-python", "--python", "-p", "-k", "--keywords", "-f", "--noxfile", "-e"}


def _nox(words: list[str]) -> list[str]:
    """Problems of `nox ARGS`: unknown sessions or tags, and a forwarded CLI's unknown options."""
    known = sessions()
    args, posargs = _split(words)
    problems = []
    named: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("-s", "--session", "--sessions"):
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                named.append(args[i])
                i += 1
            continue
        if word in ("-t", "--tags"):
            tag = args[i + 1] if i + 1 < len(args) else ""
            if not any(tag in s.tags for s in known.values()):
                problems.append(f"no session is tagged {tag!r}")
            i += 2
            continue
        i += 2 if word in NOX_VALUED else 1
    problems += [f"no nox session {name!r} in noxfile.py" for name in named if name not in known]
    if len(named) == 1 and named[0] in known and (forwarded := known[named[0]].lattice_command):
        problems += [f"nox -s {named[0]} -- ...: {p}" for p in check_cli([forwarded, *posargs])]
    if len(named) == 1 and named[0] in known and known[named[0]].runs_pytest:
        problems += [f"nox -s {named[0]} -- ...: {p}" for p in check_pytest(posargs)]
    return problems


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    """`nox ARGS -- POSARGS` as (ARGS, POSARGS)."""
    if "--" in words:
        at = words.index("--")
        return words[1:at], words[at + 1 :]
    return words[1:], []


def _python_m(words: list[str]) -> list[str]:
    module = words[2]
    if module == "tools.lattice":
        return check_cli(words[3:])
    if module.split(".")[0] in ("tools", "tests", "app"):
        base = ROOT / module.replace(".", "/")
        if not (base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()):
            return [f"no module {module} in the repository"]
    return []


def problems_of(command: Command) -> list[str]:
    found = []
    for words in command.simple_commands():
        if not words:
            continue
        if words[0] == "nox":
            found += _nox(words)
        elif words[0] == "python" and words[1:2] == ["-m"] and len(words) > 2:
            found += _python_m(words)
        found += [f"no {p} in the repository" for w in words if (p := repo_path(w)) and not resolves(p)]
    return found


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=[f"{c.page}:{c.line}" for c in ALL_COMMANDS])
def test_a_console_command_names_what_exists(command: Command) -> None:
    problems = problems_of(command)
    assert not problems, f"{command.page}:{command.line}: `{command.text}`: " + "; ".join(problems)


_INLINE_NOX = re.compile(r"^nox(?: -[rR])* -s ([\w-]+)")
_INLINE_CLI = re.compile(r"^python -m tools\.lattice ([\w-]+)")


def test_inline_commands_name_real_sessions_and_commands() -> None:
    """`nox -s NAME ...` and `python -m tools.lattice CMD ...` in prose: the session and the command
    exist (their arguments there are often placeholders, `-- up|status|down|reap`)."""
    known = sessions()
    wrong = []
    for page in pages():
        for line, span in spans(page):
            if (session := _INLINE_NOX.match(span)) and session.group(1) not in known:
                wrong.append(f"{shown(page)}:{line}: `{span}`: no session {session.group(1)!r}")
            if (cli := _INLINE_CLI.match(span)) and (found := check_cli([cli.group(1)])):
                wrong.append(f"{shown(page)}:{line}: `{span}`: {found[0]}")
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_what_does_not_exist() -> None:
    """The checks above can fail: a made-up session, command, option and module are each caught."""
    made_up = Command("x.md", 1, "nox -s nosuch && python -m tools.lattice nosuch", run=False)
    assert len(problems_of(made_up)) == 2
    option = Command("x.md", 1, "nox -s mutate -- --no-such-option", run=False)
    assert problems_of(option) == ["nox -s mutate -- ...: `mutate` has no option --no-such-option"]
    sub = Command("x.md", 1, "python -m tools.lattice services nosuch", run=False)
    assert "no subcommand 'nosuch'" in problems_of(sub)[0]
    path = Command("x.md", 1, "nox -s integration -- tests/integration/test_nosuch.py", run=False)
    assert problems_of(path) == ["no tests/integration/test_nosuch.py in the repository"]
    assert problems_of(Command("x.md", 1, "nox -t ci -s spec gen", run=False)) == []
    typo = Command("x.md", 1, "nox -s race -- --race-exampels 5 --lattice-shard 1/2", run=False)
    assert problems_of(typo) == ["nox -s race -- ...: pytest has no option --race-exampels"]


MARKED = [c for c in ALL_COMMANDS if c.run]


def test_some_blocks_are_marked_to_run() -> None:
    assert MARKED, "no console block is marked <!-- docs-test: run --> in README.md or docs/*.md"


@pytest.mark.parametrize("command", MARKED, ids=[f"{c.page}:{c.line}" for c in MARKED])
def test_a_marked_command_runs(command: Command) -> None:
    words = command.words()
    assert words[0] == "python", f"{command.page}:{command.line}: only `python ...` commands are run here"
    done = subprocess.run(
        [sys.executable, *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (
        f"{command.page}:{command.line}: `{command.text}` exited {done.returncode}: "
        + (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    )
