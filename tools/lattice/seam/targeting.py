"""Which application the lattice tests: the `Target` named by `[tool.lattice] target = "module:NAME"` in
pyproject.toml, or by the pytest plugin's `lattice_target` option (ini or `--lattice-target`)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

from tools.lattice.seam.project import project_root
from tools.lattice.seam.target import Target

PYPROJECT = project_root() / "pyproject.toml"

# The target this process tests, once chosen (by the plugin, or on first use from PYPROJECT).
_CHOSEN: dict[str, Target] = {}


class TargetError(Exception):
    """The message is one actionable line."""


def parse_reference(value: object, where: str) -> tuple[str, str]:
    """`"pkg.module:NAME"` as (module, name), or TargetError naming the setting and the expected shape."""
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise TargetError(f'lattice: {where} = {value!r} is not "package.module:NAME"')
    module, name = value.split(":")
    return module, name


def reference_in(pyproject: Path) -> object | None:
    """The `[tool.lattice] target` value of `pyproject` (None when it sets none)."""
    try:
        config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("lattice", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"lattice: cannot read {pyproject}: {exc}") from None
    value: object | None = config.get("target")
    return value


def import_target(value: object, where: str) -> Target:
    """The object `value` ("module:NAME") names; TargetError (one line, naming `where`) otherwise."""
    module_name, attribute = parse_reference(value, where)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"lattice: {where}: cannot import {module_name}: {exc}") from None
    target = getattr(module, attribute, None)
    if target is None:
        raise TargetError(f"lattice: {where}: {module_name} has no {attribute}")
    return target  # type: ignore[no-any-return]


def load_target(pyproject: Path | None = None) -> Target:
    """The target of this process: the one chosen already, else `pyproject`'s (this project's by default).

    Given an explicit `pyproject`, reads that one and chooses nothing (the loader's own tests)."""
    if pyproject is None and "target" in _CHOSEN:
        return _CHOSEN["target"]
    path = pyproject or PYPROJECT
    value = reference_in(path)
    if value is None:
        raise TargetError(f'lattice: set [tool.lattice] target = "package.module:NAME" in {path}')
    target = import_target(value, f"[tool.lattice] target in {path.name}")
    if pyproject is None:
        _CHOSEN["target"] = target
    return target


def choose_target(value: object, where: str) -> Target:
    """Make the object `value` names this process's target (the plugin's ini or command-line option)."""
    _CHOSEN["target"] = import_target(value, where)
    return _CHOSEN["target"]
