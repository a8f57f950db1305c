"""Where an import-time value is used: the lines whose tests can notice a change made at import.

A module constant (`MAX_WRONG_CODES = 5`), a default argument or a decorator runs while the module is
imported, before any test's context starts, so no test "runs" its line; the tests that can notice a
change to it are those that run the code using it: the lines that read the constant (in its module,
and in the modules that import it by name or read it as `module.NAME`), and the body of the function
whose default or decorator it is.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path


@cache
def _tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text())
    except (OSError, SyntaxError, ValueError):
        return None


def module_name(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _assigned(tree: ast.Module, first: int, last: int) -> set[str]:
    """Names bound by module-level statements that overlap [first, last]."""
    names: set[str] = set()
    for node in tree.body:
        end = node.end_lineno or node.lineno
        if end < first or node.lineno > last:
            continue
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _function_body(tree: ast.Module, first: int, last: int) -> set[int]:
    """The body lines of the function whose signature or decorators [first, last] falls in."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            head_first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if head_first <= first and last < node.body[0].lineno:
                return set(range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1))
    return set()


def _reads(tree: ast.AST, names: set[str]) -> set[int]:
    return {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names
    }


def use_lines(root: Path, package: str, path: str, first: int, last: int) -> dict[str, set[int]]:
    """path -> lines that use what the import-time span [first, last] of `path` makes."""
    tree = _tree(root / path)
    if tree is None:
        return {}
    out: dict[str, set[int]] = {}
    body = _function_body(tree, first, last)
    if body:
        out[path] = body
    names = _assigned(tree, first, last)
    if not names:
        return out
    own = {line for line in _reads(tree, names) if not first <= line <= last}
    if own:
        out.setdefault(path, set()).update(own)
    module = module_name(path)
    parent, _, leaf = module.rpartition(".")
    for other in sorted((root / package).rglob("*.py")):
        rel = other.relative_to(root).as_posix()
        if rel == path or (other_tree := _tree(other)) is None:
            continue
        imported: set[str] = set()
        aliases: set[str] = set()
        for node in ast.walk(other_tree):
            if isinstance(node, ast.ImportFrom) and node.module == module:
                imported.update(a.asname or a.name for a in node.names if a.name in names)
            elif isinstance(node, ast.ImportFrom) and node.module == parent:
                aliases.update(a.asname or a.name for a in node.names if a.name == leaf)
            elif isinstance(node, ast.Import):
                aliases.update(a.asname for a in node.names if a.name == module and a.asname)
        if imported or aliases:
            lines = _reads(other_tree, imported)
            if aliases:
                lines |= {
                    n.lineno
                    for n in ast.walk(other_tree)
                    if isinstance(n, ast.Attribute)
                    and n.attr in names
                    and isinstance(n.value, ast.Name)
                    and n.value.id in aliases
                }
            if lines:
                out.setdefault(rel, set()).update(lines)
    return out
