"""The mutation operators: small, plausible changes to one expression or statement of a module.

The standard set (the one mutmut, cosmic-ray and PIT share): flip a comparison, swap `and`/`or`,
drop a `not`, swap an arithmetic operator, nudge a number, change a string, flip a boolean, drop a
keyword argument, drop a call made for its effect, return None instead of a value, swap
`break`/`continue`. Each mutant replaces the exact source span of one node by the text of the
mutated node, so the rest of the file (and its line numbers) stays as it was.

Left unmutated, because changing them says nothing about the tests: docstrings, type annotations,
`__all__`, code under `if TYPE_CHECKING:`, the text of log messages, and any line that carries
`# pragma: no mutate`.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

NO_MUTATE = "pragma: no mutate"

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITHMETIC_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_LOGGER_NAMES = {"logger", "log", "logging", "_log", "_logger"}
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


@dataclass(frozen=True)
class Mutation:
    """One change: the source span it replaces and the text that replaces it."""

    operator: str
    line: int  # 1-based, where the span starts
    end_line: int
    start: int  # offsets into the module's text
    end: int
    original: str
    replacement: str
    scope: str  # the enclosing function or class, dotted ("MarkRoutes.create"), "" at module level
    at_import: bool  # runs when the module is imported (module or class level, decorators, defaults)

    def apply(self, source: str) -> str:
        return source[: self.start] + self.replacement + source[self.end :]


def _line_offsets(source: str) -> list[int]:
    offsets, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def _char_offset(lines: list[str], offsets: list[int], lineno: int, col_bytes: int) -> int:
    """ast columns count UTF-8 bytes; the text is indexed by characters."""
    text = lines[lineno - 1]
    return offsets[lineno - 1] + len(text.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return isinstance(parent, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_log_call(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _LOG_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id in _LOGGER_NAMES
    )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _variants(node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, ast.AST]]:
    """(operator name, mutated copy of `node`) for each change the standard set makes to it."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(op))
            if swap is not None:
                mutated = copy.deepcopy(node)
                mutated.ops[i] = swap()
                yield "comparison", mutated
    elif isinstance(node, ast.BoolOp):
        flipped = copy.deepcopy(node)
        flipped.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", flipped
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop-not", copy.deepcopy(node.operand)
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):  # `a + b` and `a += b` swap alike
        arithmetic = _ARITHMETIC_SWAPS.get(type(node.op))
        if arithmetic is not None:
            swapped = copy.deepcopy(node)
            swapped.op = arithmetic()
            yield "arithmetic", swapped
    elif isinstance(node, ast.Constant):
        yield from _constant_variants(node, parent)
    elif isinstance(node, ast.Call):
        pass  # keywords are dropped as text (see _Collector._drop_keywords): a readable diff
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        call = node.value.value if isinstance(node.value, ast.Await) else node.value
        if isinstance(call, ast.Call) and not _is_log_call(call):
            yield "drop-call", ast.Pass()
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return-none", ast.Return(value=ast.Constant(value=None))
    elif isinstance(node, ast.Break):
        yield "loop-control", ast.Continue()
    elif isinstance(node, ast.Continue):
        yield "loop-control", ast.Break()


def _constant_variants(node: ast.Constant, parent: ast.AST | None) -> Iterator[tuple[str, ast.AST]]:
    value = node.value
    if isinstance(value, bool):
        yield "boolean", ast.Constant(value=not value)
    elif isinstance(value, int):
        yield "number", ast.Constant(value=value + 1)
    elif isinstance(value, float):
        yield "number", ast.Constant(value=value + 1.0)
    elif isinstance(value, str) and not _is_docstring(node, parent):
        yield "string", ast.Constant(value=f"XX{value}XX")


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str, accept_line: Callable[[int], bool]) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.offsets = _line_offsets(source)
        self.accept_line = accept_line
        self.scopes: list[str] = []
        self.parents: list[ast.AST] = []
        self.in_body = 0  # how many function bodies enclose the node being visited
        self.found: list[Mutation] = []

    def generic_visit(self, node: ast.AST) -> None:
        parent = self.parents[-1] if self.parents else None
        self._mutate(node, parent)
        self.parents.append(node)
        for name, value in ast.iter_fields(node):
            if self._skipped_field(node, name):
                continue
            body = name == "body" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            self.in_body += body
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.visit(child)
            self.in_body -= body
        self.parents.pop()

    def _skipped_field(self, node: ast.AST, name: str) -> bool:
        if name in {"annotation", "returns", "type_comment", "type_params"}:
            return True
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            return True
        if isinstance(node, ast.JoinedStr):  # an f-string's parts are not constants of their own
            return True
        if isinstance(node, ast.Call) and _is_log_call(node) and name == "args":
            return True
        return isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        )

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scopes.append(node.name)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    def _mutate(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, (ast.expr, ast.stmt)) or not hasattr(node, "end_lineno"):
            return
        if node.end_lineno is None or node.end_col_offset is None:
            return
        if not self.accept_line(node.lineno) or NO_MUTATE in self.lines[node.lineno - 1]:
            return
        start = _char_offset(self.lines, self.offsets, node.lineno, node.col_offset)
        end = _char_offset(self.lines, self.offsets, node.end_lineno, node.end_col_offset)
        if isinstance(node, ast.Call):
            self._drop_keywords(node)
        original = self.source[start:end]
        for operator, mutated in _variants(node, parent):
            replacement = ast.unparse(mutated)
            if replacement == original:
                continue
            self.found.append(
                Mutation(
                    operator,
                    node.lineno,
                    node.end_lineno,
                    start,
                    end,
                    original,
                    replacement,
                    ".".join(self.scopes),
                    self.in_body == 0,
                )
            )

    def _span(self, node: ast.expr | ast.keyword) -> tuple[int, int]:
        end_lineno, end_col = node.end_lineno or node.lineno, node.end_col_offset or node.col_offset
        return (
            _char_offset(self.lines, self.offsets, node.lineno, node.col_offset),
            _char_offset(self.lines, self.offsets, end_lineno, end_col),
        )

    def _drop_keywords(self, call: ast.Call) -> None:
        """Remove one `name=value` with its comma, leaving the rest of the call's text alone."""
        parts: list[ast.expr | ast.keyword] = sorted(
            [*call.args, *call.keywords], key=lambda n: (n.lineno, n.col_offset)
        )
        for i, part in enumerate(parts):
            if not isinstance(part, ast.keyword) or part.arg is None:  # `**kwargs` is not one argument
                continue
            start, end = self._span(part)
            if i + 1 < len(parts):
                end = self._span(parts[i + 1])[0]
            elif i > 0:
                start = self._span(parts[i - 1])[1]
            self.found.append(
                Mutation(
                    "drop-keyword",
                    part.lineno,
                    part.end_lineno or part.lineno,
                    start,
                    end,
                    self.source[start:end],
                    "",
                    ".".join(self.scopes),
                    self.in_body == 0,
                )
            )


def mutations(source: str, accept_line: Callable[[int], bool] = lambda _line: True) -> list[Mutation]:
    """Every mutation of `source` whose node starts on an accepted line, each one still valid Python."""
    collector = _Collector(source, accept_line)
    collector.visit(ast.parse(source))
    valid = []
    for mutation in collector.found:
        try:
            ast.parse(mutation.apply(source))
        except SyntaxError:
            # e.g. a dropped call that was the only statement of a block still needs the `pass`
            # it becomes; a replacement that breaks the syntax is not a mutant, only noise.
            continue
        valid.append(mutation)
    return valid
