"""Mutants dropped before any test runs, because they cannot change what the program does.

Three rules, each counted in the report:
- `same-bytecode`: the mutated module compiles to the same code as the original (the compiler folded
  the change away, e.g. `not x is None` and `x is not None`);
- `duplicate`: the mutated module compiles to the same code as another mutant of the same file
  (two operators that reach one program: run it once);
- `default-keyword`: a dropped keyword argument whose value is the parameter's default
  (`nullable=True` on a SQLAlchemy `Column`, `frozen=False` on a dataclass).

Code is compared by what runs (instructions, constants, names, nested code), not by line numbers
or column positions, which a same-length-preserving edit may move.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType
from typing import Any

from tools.lattice.engines.mutate.operators import _char_offset, _line_offsets
from tools.lattice.engines.mutate.scope import Mutant
from tools.lattice.engines.mutate.uses import module_name

RULES = ("same-bytecode", "duplicate", "default-keyword")

# Callables whose defaults live in **kwargs, not in the signature: (module, name) -> keyword ->
# (default, condition on the call's other keywords under which it is the default).
_KWARGS_DEFAULTS: dict[tuple[str, str], dict[str, tuple[object, Callable[[dict[str, object]], bool]]]] = {
    # Column(nullable=...) defaults to `not primary_key`.
    ("sqlalchemy.sql.schema", "Column"): {
        "nullable": (True, lambda kw: not kw.get("primary_key", False)),
        "primary_key": (False, lambda _kw: True),
    },
}


def code_shape(code: CodeType) -> tuple[object, ...]:
    """What a code object does, without where its lines sit."""
    consts = tuple(
        code_shape(c) if isinstance(c, CodeType) else (type(c).__name__, repr(c)) for c in code.co_consts
    )
    return (
        code.co_code,
        consts,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_flags,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        getattr(code, "co_exceptiontable", b""),
    )


def _shape_of(source: str, path: str) -> tuple[object, ...] | None:
    try:
        return code_shape(compile(source, path, "exec", dont_inherit=True))
    except (SyntaxError, ValueError):
        return None  # e.g. `return` made outside a function: it is still a mutant, and tests decide


def _resolve(module: Any, func: ast.expr) -> object | None:
    """The object a call's `func` names at module level (`Column`, `sa.Column`), if it can be known."""
    names: list[str] = []
    while isinstance(func, ast.Attribute):
        names.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    obj: object = getattr(module, func.id, None)
    for name in reversed(names):
        obj = getattr(obj, name, None)
    return obj


def _literal(node: ast.expr) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _same_value(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _keyword_default_is(callee: object, call: ast.Call, keyword: ast.keyword, value: object) -> bool:
    given = {k.arg: v for k in call.keywords if k.arg for ok, v in [_literal(k.value)] if ok}
    for (module, name), table in _KWARGS_DEFAULTS.items():
        known = getattr(sys.modules.get(module), name, None)
        if known is not None and callee is known and keyword.arg in table:
            default, applies = table[keyword.arg]
            return _same_value(default, value) and applies(given)
    try:
        signature = inspect.signature(callee)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    parameter = signature.parameters.get(keyword.arg or "")
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return False
    return _same_value(parameter.default, value)


def _keyword_at(tree: ast.Module, source: str, start: int, end: int) -> tuple[ast.Call, ast.keyword] | None:
    """The call and the keyword a drop-keyword mutation removes: the one whose text lies in its span."""
    lines = source.splitlines(keepends=True)
    offsets = _line_offsets(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg is None:
                    continue
                at = _char_offset(lines, offsets, keyword.lineno, keyword.col_offset)
                if start <= at < end:
                    return node, keyword
    return None


def drops_a_default(mutant: Mutant, source: str, tree: ast.Module, module: Any) -> bool:
    m = mutant.mutation
    if m.operator != "drop-keyword" or module is None:
        return False
    found = _keyword_at(tree, source, m.start, m.end)
    if found is None:
        return False
    call, keyword = found
    ok, value = _literal(keyword.value)
    if not ok:
        return False
    callee = _resolve(module, call.func)
    return callee is not None and _keyword_default_is(callee, call, keyword, value)


def _import(path: str) -> Any:
    """The module, to look up what its calls call; None when it will not import here."""
    try:
        return importlib.import_module(module_name(path))
    except Exception:  # a module that cannot import here only loses this one rule
        return None


def prefilter(
    root: Path, mutants: Iterable[Mutant], limit: int | None = None
) -> tuple[list[Mutant], dict[str, list[Mutant]]]:
    """The mutants worth running (the first `limit` of them), and those each rule removed on the way
    (in RULES order: a mutant is counted once, by the first rule that removes it)."""
    removed: dict[str, list[Mutant]] = {rule: [] for rule in RULES}
    kept: list[Mutant] = []
    sources: dict[str, str] = {}
    originals: dict[str, tuple[object, ...] | None] = {}
    trees: dict[str, ast.Module] = {}
    modules: dict[str, Any] = {}
    seen: dict[tuple[str, tuple[object, ...]], Mutant] = {}
    for mutant in mutants:
        if limit is not None and len(kept) >= limit:
            break
        path = mutant.path
        if path not in sources:
            sources[path] = (root / path).read_text()
            originals[path] = _shape_of(sources[path], path)
            trees[path] = ast.parse(sources[path])
        source = sources[path]
        shape = _shape_of(mutant.mutation.apply(source), path)
        if shape is not None and shape == originals[path]:
            removed["same-bytecode"].append(mutant)
            continue
        if shape is not None and (path, shape) in seen:
            removed["duplicate"].append(mutant)
            continue
        if mutant.mutation.operator == "drop-keyword":
            if path not in modules:
                modules[path] = _import(path)
            if drops_a_default(mutant, source, trees[path], modules[path]):
                removed["default-keyword"].append(mutant)
                continue
        if shape is not None:
            seen[(path, shape)] = mutant
        kept.append(mutant)
    return kept, removed


def counts(removed: dict[str, list[Mutant]]) -> dict[str, int]:
    return {rule: len(removed.get(rule, [])) for rule in RULES}
