"""The one-line errors the lattice can print, read from its source (ast), for docs/troubleshooting.md.

A message counts when it reaches the user as a command's (or a run's) last word:
- the first argument of an exception class named in `USER_ERRORS` (each is caught where a command or
  the pytest plugin starts and printed as one line), of `SystemExit`, `pytest.UsageError`, `pytest.exit`
  and nox's `session.error`, and of a `ValueError` raised in a pydantic validator (its text becomes the
  settings' or the config's one line);
- a `print(...)` whose block then returns a non-zero constant (`print(...); return 2`);
- the items of a list such a message joins (`"; ".join(problems)`) or a loop prints to stderr;
- a call of a helper (`_usage(message)`, `_fail(key, message)`) whose parameter reaches one of the above,
  with the call's arguments put in.

A message is a template: each `{expression}` of an f-string becomes `…`. A message that only passes an
exception's text on (`print(exc)`, `f"spec: {exc}"`) is a relay, not a template: the exception's own
raise site is where its words are. `docs/troubleshooting.md` quotes every template on a line of its own
(`> lattice: ...`, the message in a code span); tests/docs/test_troubleshooting.py holds the two together
both ways.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LATTICE = Path(__file__).resolve().parents[1]
PLACEHOLDER = "…"
# The lattice's exception classes whose message is a command's one line. Every exception class the
# lattice defines is either here or in `INTERNAL_ERRORS` (a test holds it so): a new class is decided.
USER_ERRORS = frozenset(
    {
        "AllowlistError",
        "DiffInputError",
        "EquivalentsError",
        "FaultsUnavailable",
        "ForeignConfigError",
        "GuardFailed",
        "ImagesMissing",
        "ImagesUnavailable",
        "LatticeConfigError",
        "LevelsError",
        "MapFailed",
        "PolicyError",
        "PromoteError",
        "SandboxBroken",
        "ScopeError",
        "SdkError",
        "SeedError",
        "ServiceUnavailable",
        "SetupError",
        "ShardError",
        "SpecError",
        "TargetError",
        "WrkMissing",
    }
)
# The rest, and why their text is not a command's one line.
INTERNAL_ERRORS = {
    "CheckFailed": "a contract check's finding, part of the failing test's report",
    "Closed": "a raw socket closed; the race plumbing turns it into an observation",
    "ContractFailure": "the contract suite's failing-test report (several lines, with its reproduction)",
    "LiveStackFailed": "a live stack that did not start: the failing test's report, with the server's log",
    "QueueNotDrained": "an assertion of a test about the queue",
    "Timeout": "an assertion of a race test about something not reached in time",
    "_PortRace": "retried at once with other ports; never shown",
    "_Shutdown": "the services command's own Ctrl-C, turned into an orderly stop",
}
_SINK_CALLS = {"SystemExit", "UsageError", "exit", "error"}  # pytest.exit, session.error
_SINK_OWNERS = {"SystemExit": None, "UsageError": "pytest", "exit": "pytest", "error": "session"}
_RELAY = re.compile(rf"^(?:\w+(?: \w+)?: )?{PLACEHOLDER}$")  # `spec: {exc}`, `lattice foreign: {exc}`


@dataclass(frozen=True)
class Message:
    template: str
    path: str  # relative to the repository, e.g. tools/lattice/services/cli.py
    line: int


@dataclass
class Found:
    messages: list[Message] = field(default_factory=list)
    exception_classes: dict[str, str] = field(default_factory=dict)  # name -> where it is defined

    def templates(self) -> dict[str, list[Message]]:
        out: dict[str, list[Message]] = {}
        for message in self.messages:
            out.setdefault(message.template, []).append(message)
        return out


def _name(func: ast.expr) -> tuple[str | None, str]:
    """(owner, name) of a call's function: `pytest.UsageError` -> ("pytest", "UsageError")."""
    if isinstance(func, ast.Attribute):
        owner = func.value
        return (owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)), func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def _bound(node: ast.expr, bound: dict[str, list[str]]) -> list[str] | None:
    """A helper parameter's texts, or a list's items where `"; ".join(problems)` joins them."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Call) and _name(node.func)[1] == "join" and node.args:
        return _bound(node.args[0], bound)
    return None


def templates_of(node: ast.expr, bound: dict[str, list[str]] | None = None) -> list[str] | None:
    """The message texts an expression can make, with `…` for what is computed; None when it holds
    no text of its own (a variable, `str(exc)`). `bound` gives names (a helper's parameters, a list of
    problems) their texts."""
    bound = bound or {}
    if (given := _bound(node, bound)) is not None:
        return given
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = [""]
        for part in node.values:
            if isinstance(part, ast.Constant):
                pieces = [str(part.value)]
            else:
                inner = part.value if isinstance(part, ast.FormattedValue) else part
                pieces = _bound(inner, bound) or [PLACEHOLDER]
            out = [a + b for a in out for b in pieces]
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = templates_of(node.left, bound), templates_of(node.right, bound)
        if left is None and right is None:
            return None
        return [a + b for a in (left or [PLACEHOLDER]) for b in (right or [PLACEHOLDER])]
    if isinstance(node, ast.IfExp):
        both = [t for branch in (node.body, node.orelse) for t in (templates_of(branch, bound) or [])]
        return both or None
    return None


def _normalise(text: str) -> str:
    collapsed = re.sub(r"(?:…\s*)+…", PLACEHOLDER, text.replace("...", "…"))
    return " ".join(collapsed.split())


def _returns_failure(statements: list[ast.stmt]) -> bool:
    """The first top-level `return` of these statements returns a non-zero int constant."""
    for statement in statements:
        if isinstance(statement, ast.Return):
            value = statement.value
            return isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value != 0
    return False


def _to_stderr(call: ast.Call) -> bool:
    return any(k.arg == "file" and "stderr" in ast.unparse(k.value) for k in call.keywords)


def _is_validator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d).split("(")[0].endswith("_validator") for d in function.decorator_list)


class _Module:
    """One source file: its sinks, its helpers and the lists its errors are built in."""

    def __init__(self, path: Path, shown: str) -> None:
        self.tree = ast.parse(path.read_text(), str(path))
        self.shown = shown
        self.functions = {
            n.name: n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self._sinks: list[tuple[ast.expr, ast.AST, int]] | None = None

    def exception_classes(self) -> Iterator[str]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef) and any(_looks_like_exception(b) for b in node.bases):
                yield node.name

    def _sink_argument(self, call: ast.Call, function: ast.AST | None) -> ast.expr | None:
        owner, name = _name(call.func)
        if not call.args:
            return None
        if name in USER_ERRORS:
            return call.args[0]
        if name in _SINK_CALLS and (_SINK_OWNERS[name] is None or owner == _SINK_OWNERS[name]):
            return call.args[0]
        if (
            name == "ValueError"
            and isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            and _is_validator(function)
        ):
            return call.args[0]
        return None

    def sinks(self) -> list[tuple[ast.expr, ast.AST, int]]:
        """(message expression, enclosing function, line) of every place a message leaves."""
        if self._sinks is None:
            self._sinks = list(self._find_sinks())
        return self._sinks

    def _find_sinks(self) -> Iterator[tuple[ast.expr, ast.AST, int]]:
        for function in [self.tree, *self.functions.values()]:
            for node in _own_nodes(function):
                if isinstance(node, ast.Call) and (arg := self._sink_argument(node, function)) is not None:
                    yield arg, function, node.lineno
            for body in _blocks(function):
                for i, statement in enumerate(body):
                    call = _print_call(statement)
                    # the line just before a failing return, or one to stderr on the way to it
                    last = i + 1 < len(body) and _returns_failure(body[i + 1 : i + 2])
                    if (
                        call is not None
                        and call.args
                        and (last or _to_stderr(call))
                        and _returns_failure(body[i + 1 :])
                    ):
                        yield call.args[0], function, statement.lineno

    def error_lists(self, function: ast.AST) -> Iterator[tuple[str, str]]:
        """(list variable, relay template) for each list of problems this function reports."""
        for node in _own_nodes(function):
            if (
                isinstance(node, ast.For)
                and isinstance(node.target, ast.Name)
                and isinstance(node.iter, ast.Name)
            ):
                for statement in node.body:
                    call = _print_call(statement)
                    if call is not None and call.args and _to_stderr(call):
                        for text in templates_of(call.args[0], {node.target.id: ["\0"]}) or []:
                            if "\0" in text:
                                yield node.iter.id, text
        for arg, owner, _ in self.sinks():
            if owner is not function:
                continue
            for join in (n for n in ast.walk(arg) if isinstance(n, ast.Call)):
                if _name(join.func)[1] == "join" and join.args and isinstance(join.args[0], ast.Name):
                    variable = join.args[0].id
                    for text in templates_of(arg, {variable: ["\0"]}) or []:
                        yield variable, text

    def list_items(self, function: ast.AST, variable: str) -> Iterator[tuple[str, int]]:
        """The message texts put into `variable` in `function` (append, +=, =, or a helper's list)."""
        for node in _own_nodes(function):
            added: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "append" and getattr(node.func.value, "id", None) == variable:
                    added = list(node.args[:1])
            elif isinstance(node, ast.AugAssign | ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", None) == variable for t in targets) and node.value is not None:
                    added = [node.value]
            for value in added:
                yield from self._items(value)

    def _items(self, value: ast.expr) -> Iterator[tuple[str, int]]:
        if isinstance(value, ast.List):
            for element in value.elts:
                for text in templates_of(element) or []:
                    yield text, element.lineno
        elif isinstance(value, ast.ListComp):
            for text in templates_of(value.elt) or []:
                yield text, value.lineno
        elif isinstance(value, ast.Call) and (helper := self.functions.get(_name(value.func)[1])):
            for node in _own_nodes(helper):
                if isinstance(node, ast.Return) and node.value is not None:
                    yield from self._items(node.value)
        else:
            for text in templates_of(value) or []:
                yield text, value.lineno

    def helper_calls(self, helper: str) -> Iterator[ast.Call]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == helper:
                yield node


def _direct_names(node: ast.expr) -> set[str]:
    """The names a message is made of as they are (`message`, `{key}`), not those it reads from."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.JoinedStr):
        return {
            part.value.id
            for part in node.values
            if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)
        }
    if isinstance(node, ast.BinOp):
        return _direct_names(node.left) | _direct_names(node.right)
    if isinstance(node, ast.IfExp):
        return _direct_names(node.body) | _direct_names(node.orelse)
    return set()


def _looks_like_exception(base: ast.expr) -> bool:
    name = _name(base)[1]
    return name.endswith(("Error", "Exception", "Unavailable", "Missing", "Failed", "Broken")) or name in {
        "Exception",
        "ServiceUnavailable",
    }


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or a module) outside the functions defined inside it."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from _own_nodes(child)


def _blocks(scope: ast.AST) -> Iterator[list[ast.stmt]]:
    if isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
        yield scope.body
    for node in _own_nodes(scope):
        for name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _print_call(statement: ast.stmt) -> ast.Call | None:
    call = statement.value if isinstance(statement, ast.Expr) else None
    return call if isinstance(call, ast.Call) and _name(call.func) == (None, "print") else None


def _parameters(function: ast.AST) -> list[str]:
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return []
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]


def _call_bindings(call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[str]]:
    names = _parameters(function)
    bound: dict[str, list[str]] = {}
    for name, arg in zip(names, call.args, strict=False):
        bound[name] = templates_of(arg) or [PLACEHOLDER]
    for keyword in call.keywords:
        if keyword.arg in names:
            bound[keyword.arg] = templates_of(keyword.value) or [PLACEHOLDER]
    return bound


def read(sources: list[tuple[Path, str]]) -> Found:
    """Every message template of these files ((path, shown path) pairs)."""
    found = Found()
    for path, shown in sources:
        module = _Module(path, shown)
        for name in module.exception_classes():
            found.exception_classes[name] = shown
        for arg, function, line in module.sinks():
            generic = [Message(_normalise(t), shown, line) for t in templates_of(arg) or []]
            used = _direct_names(arg) & set(_parameters(function))
            specific = []
            if used and isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                # A helper (`_fail(key, message)`): its calls in this module say what the message is.
                for call in module.helper_calls(function.name):
                    texts = templates_of(arg, _call_bindings(call, function)) or []
                    specific += [Message(_normalise(t), shown, call.lineno) for t in texts]
            found.messages += specific or generic
        for function in [module.tree, *module.functions.values()]:
            for variable, relay in module.error_lists(function):
                for item, line in module.list_items(function, variable):
                    found.messages.append(Message(_normalise(relay.replace("\0", item)), shown, line))
    found.messages = [m for m in found.messages if not _RELAY.match(m.template)]
    return found


def lattice_sources(root: Path | None = None) -> list[tuple[Path, str]]:
    """The lattice's modules, and the project's noxfile.py when `root` has one."""
    sources = [
        (p, f"tools/lattice/{p.relative_to(LATTICE).as_posix()}") for p in sorted(LATTICE.rglob("*.py"))
    ]
    if root is not None and (root / "noxfile.py").is_file():
        sources.append((root / "noxfile.py", "noxfile.py"))
    return sources


_QUOTED = re.compile(r"^> (.+)$", re.M)
_CODE = re.compile(r"^(`+) ?(.*?) ?\1$")


def documented(text: str) -> set[str]:
    """The messages a troubleshooting page quotes: its `> ...` lines, each maybe one code span
    (``` `` a `b` c `` ```, so the message's own backticks show as written)."""
    quoted = set()
    for line in _QUOTED.findall(text):
        code = _CODE.match(line.strip())
        quoted.add(_normalise(code.group(2) if code else line))
    return quoted


def _run(args: argparse.Namespace) -> int:
    found = read(lattice_sources(Path.cwd()))
    templates = found.templates()
    if args.check is None:
        for template, sites in sorted(templates.items()):
            where = ", ".join(f"{m.path}:{m.line}" for m in sites)
            print(f"> `` {template} ``\n  ({where})")
        print(f"lattice: {len(templates)} message(s)", file=sys.stderr)
        return 0
    page = Path(args.check)
    try:
        quoted = documented(page.read_text())
    except OSError as exc:
        print(f"lattice: report errors: cannot read {page}: {exc.strerror}", file=sys.stderr)
        return 2
    missing = sorted(set(templates) - quoted)
    stale = sorted(quoted - set(templates))
    for template in missing:
        where = ", ".join(f"{m.path}:{m.line}" for m in templates[template])
        print(f"missing from {page}: > `` {template} ``  ({where})")
    for template in stale:
        print(f"no longer raised, in {page}: > `` {template} ``")
    if missing or stale:
        print(f"lattice: {page}: {len(missing)} message(s) missing, {len(stale)} stale", file=sys.stderr)
        return 1
    print(f"lattice: {page} quotes all {len(templates)} messages")
    return 0


def add_errors_command(sub: Any) -> None:
    errors = sub.add_parser(
        "errors", help="the one-line errors the lattice can print, read from its source (with their places)"
    )
    errors.add_argument(
        "--check", metavar="PAGE", help="exit 1 unless PAGE quotes every message (`> ...` lines) and no other"
    )
    errors.set_defaults(handler=_run)
