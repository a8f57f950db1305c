"""The two sides of a diff: loading them (a file, a git ref, the live app; JSON or YAML), JSON pointers,
local `$ref`s."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.lattice.chain.document import DOCUMENT_PATH, REPO_ROOT, shown

Json = dict[str, Any]
DOCUMENT_IN_REPO = DOCUMENT_PATH.relative_to(REPO_ROOT).as_posix()


class DiffInputError(Exception):
    """A side cannot be loaded; the message is one actionable line."""


@dataclass(frozen=True)
class Side:
    document: Json
    label: str


def escape(token: str) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str) -> str:
    return "".join("/" + escape(t) for t in tokens)


class _YamlLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as JSON would have it: timestamps stay strings (an `example: 2024-01-01` is text)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _string_keys(node: Any) -> Any:
    """YAML reads `200:` as an integer key; OpenAPI's keys (statuses, names) are strings."""
    if isinstance(node, dict):
        return {str(k).lower() if isinstance(k, bool) else str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _parse(text: str, label: str) -> Json:
    """A document in JSON, or in YAML (a superset of JSON: a file that is neither is reported as both)."""
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith(("{", "[")):
            raise DiffInputError(f"{label} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        try:
            loaded = _string_keys(yaml.load(text, Loader=_YamlLoader))  # noqa: S506 - a safe loader
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or "unreadable"
            raise DiffInputError(f"{label} is neither JSON nor valid YAML: {problem}{where}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("paths", {}), dict):
        raise DiffInputError(f"{label} is not an OpenAPI document (no `paths` object at the top)")
    return loaded


def git(*args: str, repo: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def is_git_ref(ref: str, repo: Path = REPO_ROOT) -> bool:
    try:
        done = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", repo=repo)
    except FileNotFoundError:
        return False
    return done.returncode == 0


def at_ref(ref: str, repo: Path = REPO_ROOT, path: str = DOCUMENT_IN_REPO) -> Side:
    """The document as committed at `ref` (`git show REF:openapi/retrace.json`)."""
    label = f"{ref}:{path}"
    done = git("show", f"{ref}:{path}", repo=repo)
    if done.returncode != 0:
        raise DiffInputError(f"{label} cannot be read: {done.stderr.strip().splitlines()[-1:] or ['?']}")
    return Side(_parse(done.stdout, label), label)


def from_file(path: Path) -> Side:
    label = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DiffInputError(f"{label} cannot be read: {exc.strerror}") from None
    return Side(_parse(text, label), label)


def live() -> Side:
    from tools.lattice.chain.document import live_document

    return Side(live_document(), "create_app().openapi() (live)")


def load(spec: str, repo: Path = REPO_ROOT) -> Side:
    """A side named on the command line: an existing file, else a git ref (`REF` or `REF:path`)."""
    path = Path(spec)
    if path.is_file():
        return from_file(path)
    if path.exists():
        raise DiffInputError(f"{spec} is not a file")
    if ":" in spec and is_git_ref(spec.split(":", 1)[0], repo):
        ref, inner = spec.split(":", 1)
        return at_ref(ref, repo, inner)
    if is_git_ref(spec, repo):
        return at_ref(spec, repo)
    raise DiffInputError(
        f"{spec} is neither a file nor a git ref (try a path such as openapi/retrace.json, "
        "or a ref such as HEAD~1 or origin/main)"
    )


class Resolver:
    """Local `$ref`s of one document; `deref` follows a chain and merges 3.1 sibling keywords."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def target(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise DiffInputError(f"only local $refs are supported, found {ref!r}")
        node: Any = self.document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise DiffInputError(f"the $ref {ref!r} points to nothing")
            node = node[token]
        return node

    def deref(self, node: Any) -> tuple[Any, tuple[str, ...]]:
        """`node` with its `$ref` chain followed, and the refs passed through (outermost first)."""
        names: list[str] = []
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise DiffInputError(f"the $ref {ref!r} refers to itself")
            seen.add(ref)
            names.append(ref)
            target = self.target(ref)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if isinstance(target, Mapping) else target
        return node, tuple(names)
