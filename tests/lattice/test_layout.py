"""The lattice's layout holds: a short root, no import circles, each subpackage importing only what its
`__init__` says it may, and nothing of the application (it is reached through the Target).

Read from the source (ast), not by importing it: a circle that only bites in some import order is
found all the same. `from P import m`, where `m` is a module, counts as an import of `P.m` alone (the
convention of import-linter and pydeps); imports under `if TYPE_CHECKING:` are not imports at run time.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

LATTICE = Path(__file__).resolve().parents[2] / "tools" / "lattice"
PACKAGE = "tools.lattice"
# The root: the entry points, the one settings module, and the subpackages docs/testing.md maps.
ALLOWED_ROOT = {
    "__init__.py",
    "__main__.py",
    "cli.py",
    "config.py",
    "pyproject.toml",
    "README.md",
    "services",
    "seam",
    "planes",
    "plugin",
    "live",
    "chain",
    "engines",
    "report",
}
# What builds leave beside the sources (git-ignored): setuptools builds this directory in place.
BUILD_LEFTOVERS = re.compile(r"^(build|dist|__pycache__|.*\.egg-info)$")
MAY_IMPORT = re.compile(r"^May import: (.+?)\.?$", re.M)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(LATTICE.rglob("*.py")):
        if any(BUILD_LEFTOVERS.match(part) for part in path.relative_to(LATTICE).parts):
            continue
        parts = path.relative_to(LATTICE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module (lattice or not) `name` imports at run time, absolute."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
        out.update(submodules)
        if len(submodules) < len(node.names):
            out.add(base)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def area(module: str) -> str:
    """The root entry a lattice module belongs to: `tools.lattice.engines.perf.wrk` -> `engines`."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else "__init__"


def allowed(subpackage: str) -> set[str]:
    doc = ast.get_docstring(ast.parse((LATTICE / subpackage / "__init__.py").read_text())) or ""
    match = MAY_IMPORT.search(doc)
    assert match, f"tools/lattice/{subpackage}/__init__.py: its docstring has no 'May import: ...' line"
    listed = match.group(1).split(" (", 1)[0]
    names = re.findall(r"\w+", listed.replace(PACKAGE, ""))
    return set(names)


def test_the_root_holds_only_the_allowed_entries() -> None:
    extra = sorted(
        p.name for p in LATTICE.iterdir() if p.name not in ALLOWED_ROOT and not BUILD_LEFTOVERS.match(p.name)
    )
    assert not extra, f"tools/lattice/ has entries beyond the layout's: {extra} (put them in a subpackage)"


def test_no_import_circles() -> None:
    found = circles(graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_circle_check_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_wheel_lists_every_subpackage() -> None:
    """tools/lattice/pyproject.toml names its packages (its directory is mapped to `tools.lattice`, which
    setuptools cannot find by itself): a new subpackage missing there would be missing from the wheel."""
    listed = set(tomllib.loads((LATTICE / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert listed == on_disk, (
        f"not in the wheel: {sorted(on_disk - listed)}; gone: {sorted(listed - on_disk)}"
    )


SUBPACKAGES = sorted(p.name for p in LATTICE.iterdir() if (p / "__init__.py").is_file())


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_each_subpackage_imports_only_what_it_says(subpackage: str) -> None:
    doc = ast.get_docstring(ast.parse((LATTICE / subpackage / "__init__.py").read_text())) or ""
    assert doc.startswith("Owns: "), (
        f"tools/lattice/{subpackage}/__init__.py: the docstring opens with 'Owns: ...'"
    )
    may = allowed(subpackage) | {subpackage}
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        if area(module) == subpackage
        for target in targets
        if target.startswith(f"{PACKAGE}.") and area(target) not in may
    )
    assert not wrong, f"tools/lattice/{subpackage} may import {sorted(may - {subpackage})}, but: {wrong}"


def test_the_lattice_imports_nothing_of_the_application() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if target == "app" or target.startswith("app.")
    )
    assert not wrong, f"the lattice reaches the app only through its Target: {wrong}"
