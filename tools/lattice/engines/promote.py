"""`python -m tools.lattice promote <source>`: a failing Hypothesis run becomes a regression-bank case.

The source is a run's terminal output or its JUnit XML (`logs/<suite>.xml`). Two kinds of failure are
recognised in Hypothesis' notes:

- an example, `Failing test case: test_x(\n    a=1,\n)` (older Hypothesis: `Falsifying example:`): the
  case calls the original test's undecorated body (`test_x.hypothesis.inner_test`) on exactly those
  arguments, the test's fixtures passed through;
- a step program, `state = Machine()` ... `state.teardown()`: the case builds the machine from the
  fixtures its constructor names and replays every printed step and invariant check in order.

The new file `tests/regression/test_<slug>.py` starts with a story stub (TODO lines: what broke, how it
showed, what fixed it) above the locked reproduction. `--list` shows what the source holds.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import inspect
import re
import shutil
import subprocess
import sys
import typing
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HEADERS = ("Failing test case:", "Falsifying example:")
BANK = Path("tests/regression")
_SECTION = re.compile(r"^_{3,} (?P<title>.+?) _{3,}$")
_FAILED = re.compile(r"^(?:FAILED|ERROR) (?P<nodeid>\S+::\S+)")
_BLANK_VALUE = re.compile(r"\b\w+=(?:,|\))")


class PromoteError(Exception):
    """What went wrong, in one line for the command line."""


@dataclass(frozen=True)
class Failure:
    kind: str  # "example" or "program"
    nodeid: str  # "tests/x.py::test_y" when known, else ""
    module: str  # dotted module of the failing test, "" when unknown
    name: str  # the test function (example) or the machine class (program)
    code: str  # the call `test_y(...)` or the step lines between construction and teardown

    def describe(self) -> str:
        where = self.nodeid or self.module or "?"
        if self.kind == "example":
            one_line = " ".join(line.strip() for line in self.code.splitlines())
            return f"example  {where}: {one_line.replace('( ', '(').replace(', )', ')')}"
        steps = [line for line in self.code.splitlines() if line.strip()]
        return f"program  {where}: {self.name}, {len(steps)} lines (steps and invariant checks)"


# ---- reading the source


def _texts(source: Path) -> list[tuple[str, str]]:
    """(test identity, failure text) per failed test; the identity is a nodeid when one can be told."""
    raw = source.read_text(errors="replace")
    if raw.lstrip().startswith("<"):
        return _junit_texts(raw, source)
    return _terminal_texts(raw)


def _junit_texts(raw: str, source: Path) -> list[tuple[str, str]]:
    try:
        root = ET.fromstring(raw)  # noqa: S314 - our own run's report, not untrusted input
    except ET.ParseError as exc:
        raise PromoteError(f"{source}: not readable JUnit XML ({exc})") from None
    found = []
    for case in root.iter("testcase"):
        for outcome in (*case.findall("failure"), *case.findall("error")):
            classname, name = case.get("classname", ""), case.get("name", "")
            identity = f"{classname}::{name}" if classname else f"::{name}"
            # The message holds the exception text and Hypothesis' notes unprefixed; the body the traceback.
            found.append((identity, (outcome.get("message") or "") + "\n" + (outcome.text or "")))
    return found


def _terminal_texts(raw: str) -> list[tuple[str, str]]:
    lines = raw.splitlines()
    nodeids = [m.group("nodeid") for line in lines if (m := _FAILED.match(line))]
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        match = _SECTION.match(line)
        if match:
            sections.append((match.group("title"), []))
        elif sections:
            sections[-1][1].append(line)
    if not sections:
        sections = [("", lines)]
    found = []
    for title, body in sections:
        test = title.replace(".", "::")
        identity = next((n for n in nodeids if test and n.endswith("::" + test)), f"::{test}")
        found.append((identity, "\n".join(body)))
    return found


def _note_lines(text: str, header_at: int) -> tuple[str, list[str]]:
    """The lines after a header, with pytest's `E   ` prefix (as long as the header's) removed."""
    lines = text.splitlines()
    line = lines[header_at]
    header = next(h for h in HEADERS if h in line)
    prefix = line[: line.index(header)]
    following = []
    for later in lines[header_at + 1 :]:
        if not later.startswith(prefix) or (prefix == "" and later.startswith(("E ", "  File "))):
            break
        following.append(later[len(prefix) :])
    return line[len(prefix) + len(header) :].strip(), following


def _module_of(identity: str) -> tuple[str, str]:
    """(nodeid, dotted module) from a nodeid `tests/x.py::t` or a JUnit `tests.x::t` / `tests.x.C::t`."""
    left, _, test = identity.partition("::")
    if left.endswith(".py"):
        return identity, left.removesuffix(".py").replace("/", ".")
    parts = left.split(".")
    classes: list[str] = []
    while parts and parts[-1][:1].isupper():  # a test class, not a module
        classes.insert(0, parts.pop())
    module = ".".join(parts)
    path = Path(*parts).with_suffix(".py") if parts else None
    nodeid = "::".join([str(path), *classes, test]) if path is not None and path.is_file() else ""
    return nodeid, module


def failures_in(source: Path) -> list[Failure]:
    if not source.is_file():
        raise PromoteError(f"{source}: no such file")
    found: list[Failure] = []
    for identity, text in _texts(source):
        nodeid, module = _module_of(identity)
        lines = text.splitlines()
        for at, line in enumerate(lines):
            if not any(h in line for h in HEADERS):
                continue
            rest, following = _note_lines(text, at)
            if rest and rest != "<state machine>":
                failure = _example(rest, following, nodeid, module)
            else:
                failure = _program(following, nodeid, module)
            if failure is not None and failure not in found:
                found.append(failure)
    return found


def _example(rest: str, following: list[str], nodeid: str, module: str) -> Failure | None:
    name = rest.split("(", 1)[0].strip()
    call = [rest]
    depth = rest.count("(") - rest.count(")")
    for line in following:
        if depth <= 0:
            break
        call.append(line)
        depth += line.count("(") - line.count(")")
    if not name.isidentifier():
        return None
    return Failure("example", nodeid, module, name, "\n".join(call))


def _program(following: list[str], nodeid: str, module: str) -> Failure | None:
    start = next((i for i, line in enumerate(following) if line.startswith("state = ")), None)
    if start is None:
        return None
    machine = following[start].removeprefix("state = ").split("(", 1)[0].strip()
    steps: list[str] = []
    for line in following[start + 1 :]:
        if line.strip() == "state.teardown()":
            return Failure("program", nodeid, module, machine, "\n".join(steps))
        steps.append(line)
    return None  # the program was cut short: nothing trustworthy to replay


# ---- writing the case


def _slug(failure: Failure) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", failure.name).lower().removeprefix("test_")
    digest = hashlib.sha256(failure.code.encode()).hexdigest()[:6]
    return re.sub(r"[^a-z0-9_]+", "_", f"{base}_{digest}")


def _import(module: str) -> Any:
    if not module:
        raise PromoteError("the source does not say which module the failing test is in")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module)
    except Exception as exc:
        raise PromoteError(f"cannot import {module} to read the test's signature: {exc!r}") from None


def _public_path(annotation: Any) -> tuple[str, str] | None:
    """(module to import from, name) for a class, preferring the shortest module that exports it."""
    if annotation is inspect.Parameter.empty or not hasattr(annotation, "__qualname__"):
        return None
    module, name = getattr(annotation, "__module__", ""), annotation.__qualname__
    if module == "builtins":
        return ("", name)
    parts = module.split(".")
    for n in range(1, len(parts) + 1):
        candidate = ".".join(parts[:n])
        try:
            if getattr(importlib.import_module(candidate), name, None) is annotation:
                return (candidate, name)
        except ImportError:
            continue
    return (module, name)


def _parameters(function: Any, skip: set[str]) -> list[tuple[str, tuple[str, str] | None]]:
    """(name, where its annotation's class lives) for each fixture-like parameter."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    params = []
    for name in inspect.signature(function).parameters:
        if name in skip:
            continue
        params.append((name, _public_path(hints.get(name, inspect.Parameter.empty))))
    return params


def _signature_and_imports(params: list[tuple[str, tuple[str, str] | None]]) -> tuple[str, list[str]]:
    imports, parts = set(), []
    for name, where in params:
        if where is None:
            imports.add("from typing import Any")
            parts.append(f"{name}: Any")
        else:
            module, cls = where
            if module:
                imports.add(f"from {module} import {cls}" if "." in module else f"import {module}")
                parts.append(f"{name}: {cls}" if "." in module else f"{name}: {module}.{cls}")
            else:
                parts.append(f"{name}: {cls}")
    return ", ".join(parts), sorted(imports)


def _check_replayable(failure: Failure) -> None:
    if _BLANK_VALUE.search(failure.code):
        raise PromoteError(
            "the failing example's values are blank (`name=,`): schemathesis' pytest plugin blanks "
            "Hypothesis' printing; rerun the failing test with `-p no:schemathesis`"
        )
    if "data(...)" in failure.code:
        raise PromoteError(
            "the failure draws interactively (`data(...)`): it cannot be replayed from the notes"
        )


def render_case(failure: Failure, source: Path, slug: str) -> str:
    _check_replayable(failure)
    module = _import(failure.module)
    target = getattr(module, failure.name, None)
    if target is None:
        raise PromoteError(f"{failure.module} has no {failure.name}")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    origin = failure.nodeid or f"{failure.module}::{failure.name}"
    if failure.kind == "example":
        try:
            call = ast.parse(failure.code, mode="eval").body
        except SyntaxError:
            raise PromoteError(
                "the failing example is not Python source (a repr that cannot be read back); "
                "write the case by hand"
            ) from None
        assert isinstance(call, ast.Call)
        fixtures = list(inspect.signature(target).parameters)
        given = [kw for kw in call.keywords if kw.arg not in fixtures]
        params = _parameters(target.hypothesis.inner_test, skip={kw.arg or "" for kw in given})
        signature, imports = _signature_and_imports(params)
        arguments = [f"{name}={name}" for name, _ in params]
        arguments += [f"{kw.arg}={ast.get_source_segment(failure.code, kw.value)}" for kw in given]
        body = (
            "    original.hypothesis.inner_test(\n"
            + "".join(f"        {a},\n" for a in arguments)
            + "    )\n"
        )
        imports.append(f"from {failure.module} import {failure.name} as original")
        how = "the original test's body runs once on exactly this example (its fixtures passed through)"
    else:
        params = _parameters(target.__init__, skip={"self"})
        signature, imports = _signature_and_imports(params)
        construct = f"{failure.name}({', '.join(name for name, _ in params)})"
        steps = "".join(f"        {line}\n" for line in failure.code.splitlines() if line.strip())
        steps = steps or "        pass\n"
        body = f"    state = {construct}\n    try:\n{steps}    finally:\n        state.teardown()\n"
        imports.append(f"from {failure.module} import {failure.name}")
        how = "the machine's printed steps and invariant checks replay in order, then teardown"
    if failure.kind == "example":
        quoted = "\n".join(f"    {line}" for line in failure.code.splitlines())
    else:
        lines = len(failure.code.splitlines())
        quoted = f"    Hypothesis' step program for {failure.name} ({lines} lines): the body below, verbatim."
    header = (
        f'"""TODO: one line naming what failed.\n\n'
        f"TODO what broke: the rule or code path that was wrong.\n\n"
        f"TODO how it showed: the failing check, status or error, and where it was seen.\n\n"
        f"TODO what fixed it: the change and its commit (`git log -- app/`).\n\n"
        f"Promoted on {stamp} by `python -m tools.lattice promote`\nfrom {source}\n({origin}):\n\n"
        f"{quoted}\n\n"
        f"Locked reproduction: {how}.\n"
        f'"""\n'
    )
    future = "from __future__ import annotations\n\n"
    plain = sorted(i for i in imports if i.startswith("import "))
    froms = sorted(i for i in imports if i.startswith("from "))
    import_block = "\n".join(plain + froms) + "\n"
    return f"{header}\n{future}{import_block}\n\ndef test_{slug}({signature}) -> None:\n{body}"


def promote(source: Path, *, pick: int | None, name: str | None, bank: Path, force: bool) -> Path:
    found = failures_in(source)
    if not found:
        raise PromoteError(f"{source}: no failing Hypothesis example or step program in it")
    if pick is None:
        if len(found) > 1:
            raise PromoteError(f"{source} holds {len(found)} failures: choose one with --pick N (see --list)")
        pick = 1
    if not 1 <= pick <= len(found):
        raise PromoteError(f"--pick {pick}: {source} holds {len(found)} failure(s)")
    failure = found[pick - 1]
    slug = name or _slug(failure)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
        raise PromoteError(f"--name {slug!r}: use lower-case letters, digits and underscores")
    target = bank / f"test_{slug}.py"
    if target.exists() and not force:
        raise PromoteError(f"{target} exists (pass --force to overwrite, or --name another)")
    text = render_case(failure, source, slug)
    try:
        compile(text, str(target), "exec")
    except SyntaxError as exc:
        raise PromoteError(f"the generated case does not compile ({exc.msg}, line {exc.lineno})") from None
    bank.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    _format(target)
    return target


def _format(path: Path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", str(path)], check=False)
        subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False, capture_output=True)


# ---- command line


def cmd_promote(args: argparse.Namespace) -> int:
    source = Path(args.source)
    try:
        if args.list:
            found = failures_in(source)
            if not found:
                raise PromoteError(f"{source}: no failing Hypothesis example or step program in it")
            for n, failure in enumerate(found, 1):
                print(f"[{n}] {failure.describe()}")
            return 0
        target = promote(source, pick=args.pick, name=args.name, bank=Path(args.bank), force=args.force)
    except PromoteError as exc:
        print(f"promote: {exc}", file=sys.stderr)
        return 1
    print(f"promote: wrote {target}; fill in its TODO story lines, then run it against the fix")
    return 0


def add_promote_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="turn a failing Hypothesis example or step program into a regression-bank case",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("source", help="a run's terminal output or its JUnit XML (logs/<suite>.xml)")
    parser.add_argument("--list", action="store_true", help="show the failures found in the source")
    parser.add_argument("--pick", type=int, help="which failure (1-based, as --list numbers them)")
    parser.add_argument("--name", help="slug of the new case: tests/regression/test_<name>.py")
    parser.add_argument("--bank", default=str(BANK), help=f"where cases go (default {BANK})")
    parser.add_argument("--force", action="store_true", help="overwrite an existing case")
    parser.set_defaults(handler=cmd_promote)
