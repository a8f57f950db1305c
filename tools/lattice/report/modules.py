"""`python -m tools.lattice report modules`: every module of the lattice with the first line of its
docstring, grouped by subpackage, as the Markdown table docs/modules.md holds (`--check PAGE` exits 1
when the page differs, `--write PAGE` rewrites it). Read from the source (ast): nothing is imported."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

LATTICE = Path(__file__).resolve().parents[1]
HEADER = """# The lattice, module by module

Generated from the modules' docstrings by `python -m tools.lattice report modules --write docs/modules.md`;
`nox -s docs` fails when it is out of date. The parts and what each may import: docs/testing.md, "The map".
"""


def first_line(path: Path) -> str:
    """The docstring's first sentence-line, or a note that the module has none."""
    doc = ast.get_docstring(ast.parse(path.read_text(), str(path)))
    if not doc:
        return "(no docstring)"
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(root: Path = LATTICE) -> str:
    rows: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part in {"build", "__pycache__"} or part.endswith(".egg-info") for part in relative.parts):
            continue
        part = relative.parts[0] if len(relative.parts) > 1 else "(root)"
        rows.setdefault(part, []).append((f"tools/lattice/{relative.as_posix()}", first_line(path)))
    out = [HEADER]
    for part in sorted(rows, key=lambda p: (p != "(root)", p)):
        out.append(f"\n## {part}\n\n| module | what |\n|---|---|")
        out += [f"| `{module}` | {_cell(line)} |" for module, line in rows[part]]
    return "\n".join(out) + "\n"


def _run(args: argparse.Namespace) -> int:
    text = render()
    if args.write:
        Path(args.write).write_text(text)
        print(f"lattice: wrote {args.write}")
        return 0
    if args.check:
        try:
            current = Path(args.check).read_text()
        except OSError as exc:
            print(f"lattice: report modules: cannot read {args.check}: {exc.strerror}", file=sys.stderr)
            return 2
        if current != text:
            print(
                f"lattice: {args.check} is out of date: "
                f"python -m tools.lattice report modules --write {args.check}",
                file=sys.stderr,
            )
            return 1
        print(f"lattice: {args.check} lists every module")
        return 0
    print(text, end="")
    return 0


def add_modules_command(sub: Any) -> None:
    modules = sub.add_parser("modules", help="every lattice module and its docstring's first line (Markdown)")
    which = modules.add_mutually_exclusive_group()
    which.add_argument("--check", metavar="PAGE", help="exit 1 unless PAGE is what this would write")
    which.add_argument("--write", metavar="PAGE", help="write the table to PAGE")
    modules.set_defaults(handler=_run)
