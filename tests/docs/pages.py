"""The docs as the docs tests read them: README.md and docs/*.md, their console blocks, links and paths."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The line before a console block whose commands are cheap and safe to run (a `--help`, a listing).
RUN_MARKER = "<!-- docs-test: run -->"
# The repository's top-level entries a path in the docs may start with.
TOP = (
    "app",
    "tools",
    "tests",
    "docs",
    "openapi",
    "sdk",
    "perf",
    "observability",
    "requirements",
    ".ci",
    ".github",
)
_PATH = re.compile(rf"^(?:{'|'.join(re.escape(t) for t in TOP)})/[\w./<>*{{}},@-]*$")
_FENCE = re.compile(r"^```(\w*)\s*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shown(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Command:
    """One `$ ...` command of a console block (continuation lines joined), its comment removed."""

    page: str
    line: int
    text: str
    run: bool  # the block is marked RUN_MARKER

    def words(self) -> list[str]:
        return shlex.split(self.text)

    def simple_commands(self) -> Iterator[list[str]]:
        """Each command of a pipeline or list (`a && b | c`), leading VAR=value assignments dropped."""
        current: list[str] = []
        for word in self.words():
            if word in ("&&", "||", "|", ";"):
                yield _without_assignments(current)
                current = []
            else:
                current.append(word)
        yield _without_assignments(current)


def _without_assignments(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_]\w*=", words[i]):
        i += 1
    return words[i:]


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence
    language: str
    body: list[str]
    run: bool


def blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        marked = i > 0 and lines[i - 1].strip() == RUN_MARKER
        yield Block(shown(page), i + 1, opening.group(1), lines[i + 1 : end], marked)
        i = end + 1


def _strip_comment(line: str) -> str:
    """`cmd  # why` -> `cmd`: a `#` that starts a word outside quotes starts a comment."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        kept = list(lexer)
    except ValueError:  # unbalanced quotes: leave the line to shlex's own error
        return line
    return shlex.join(kept) if kept else ""


def commands(page: Path) -> Iterator[Command]:
    for block in blocks(page):
        if block.language != "console":
            continue
        pending: list[str] = []
        start = 0
        for offset, raw in enumerate(block.body):
            line = raw.rstrip()
            if not pending:
                if not line.startswith("$ "):
                    continue  # output
                start = block.line + 1 + offset
                line = line[2:]
            if line.endswith("\\"):
                pending.append(line[:-1])
                continue
            pending.append(line)
            text = _strip_comment(" ".join(p.strip() for p in pending))
            pending = []
            if text:
                yield Command(block.page, start, text, block.run)


def _prose(page: Path) -> Iterator[tuple[int, str]]:
    """The page's lines outside fenced blocks, with their numbers."""
    inside = False
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            yield number, line


def links(page: Path) -> Iterator[tuple[int, str]]:
    for number, line in _prose(page):
        for match in _LINK.finditer(line):
            yield number, match.group(1)


def spans(page: Path) -> Iterator[tuple[int, str]]:
    """Inline code spans (`...`) of the page's prose."""
    for number, line in _prose(page):
        for match in _SPAN.finditer(line):
            yield number, match.group(1)


def prose_words(page: Path) -> Iterator[tuple[int, str]]:
    """The words of the page's prose outside code spans and link targets (bare paths are written so)."""
    for number, line in _prose(page):
        bare = _LINK_TARGET.sub("]", _SPAN.sub(" ", line))
        for word in re.split(r"[\s(),;]+", bare):
            if word:
                yield number, word


def repo_path(token: str) -> str | None:
    """`token` as a repository path when it reads as one (`tools/lattice/cli.py`, `tests/race/`,
    `tools/lattice/seam/target.py:Target`), else None."""
    token = token.strip().rstrip(".,;:")
    token = re.sub(r"^\./", "", token)
    token = re.sub(r"\.py:[A-Za-z_]\w*$", ".py", token)  # path:NAME
    token = re.sub(r":\d+$", "", token)  # path:LINE
    return token if _PATH.match(token) else None


def resolves(path: str) -> bool:
    """The path (with `<placeholder>` or `*` read as a wildcard) names something in the repository."""
    pattern = re.sub(r"<[^>]*>|\{[^}]*\}", "*", path.replace("...", "*")).rstrip("/")
    if "*" in pattern:
        return any(ROOT.glob(pattern))
    return (ROOT / pattern).exists()
