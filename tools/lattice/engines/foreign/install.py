"""What a foreign suite needs installed, read from its own pyproject.toml (and requirement files).

`[install]` names what to take: `[project].dependencies`, extras, dependency groups (PEP 735, with
`{include-group = ...}` followed) and requirement files. The result is the arguments of one
`pip install` (`uv pip install`): requirement strings, and `-r FILE` for each file. The project's
`requires-python` is checked against the interpreter that will run the suite.
"""

from __future__ import annotations

import platform
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from tools.lattice.engines.foreign.config import ForeignConfig, ForeignConfigError


def _fail(key: str, message: str) -> ForeignConfigError:
    return ForeignConfigError(f"lattice foreign: `{key}`: {message}")


def read_pyproject(config: ForeignConfig) -> tuple[Path, dict[str, Any]]:
    path = config.path(config.install.pyproject)
    try:
        return path, tomllib.loads(path.read_text())
    except OSError as exc:
        raise _fail("install.pyproject", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail("install.pyproject", f"{path} is not valid TOML: {exc}") from None


def _names(table: dict[str, Any]) -> str:
    return ", ".join(sorted(table)) or "none"


def _group(groups: dict[str, Any], name: str, path: Path, seen: tuple[str, ...] = ()) -> Iterator[str]:
    if name not in groups:
        raise _fail("install.groups", f"{path} has no dependency group {name!r} (it has: {_names(groups)})")
    if name in seen:
        raise _fail("install.groups", f"{path}: group {name!r} includes itself ({' -> '.join(seen)})")
    for entry in groups[name]:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict) and set(entry) == {"include-group"}:
            yield from _group(groups, str(entry["include-group"]), path, (*seen, name))
        else:
            raise _fail("install.groups", f"{path}: group {name!r} has an entry PEP 735 does not allow")


def requirements(config: ForeignConfig) -> list[str]:
    """The arguments of the one install that gives the suite what it imports."""
    path, pyproject = read_pyproject(config)
    project = pyproject.get("project", {})
    wanted: list[str] = list(project.get("dependencies", [])) if config.install.dependencies else []
    optional = project.get("optional-dependencies", {})
    for extra in config.install.extras:
        if extra not in optional:
            raise _fail("install.extras", f"{path} has no extra {extra!r} (it has: {_names(optional)})")
        wanted += optional[extra]
    groups = pyproject.get("dependency-groups", {})
    for name in config.install.groups:
        wanted += _group(groups, name, path)
    for entry in config.install.requirements:
        file = config.path(entry)
        if not file.is_file():
            raise _fail("install.requirements", f"{file} does not exist")
        wanted += ["-r", str(file)]
    return list(dict.fromkeys(wanted))


def check_python(config: ForeignConfig, version: str | None = None) -> None:
    """The project's `requires-python` admits the running interpreter, or one line saying which to use."""
    path, pyproject = read_pyproject(config)
    declared = pyproject.get("project", {}).get("requires-python")
    if not declared:
        return
    try:
        spec = SpecifierSet(declared)
    except InvalidSpecifier:
        raise _fail("install.pyproject", f"{path}: requires-python {declared!r} is not valid") from None
    running = version or platform.python_version()
    if not spec.contains(running, prereleases=True):
        raise ForeignConfigError(
            f"lattice foreign: {path} requires Python {declared}, and this is {running} ({sys.executable}):"
            " run the session on one that is, e.g. `nox -P 3.13 -s foreign -- ...`"
        )
