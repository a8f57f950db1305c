"""Loads the application's `Target` from `[tool.lattice] target = "module:NAME"` in pyproject.toml."""

from __future__ import annotations

import importlib
import tomllib
from functools import cache
from pathlib import Path

from tools.lattice.target import Target

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


class TargetError(Exception):
    """The message is one actionable line."""


def parse_reference(value: object) -> tuple[str, str]:
    """`"pkg.module:NAME"` as (module, name), or TargetError naming the key and the expected shape."""
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise TargetError(
            f'lattice: [tool.lattice] target = {value!r} in {PYPROJECT.name} is not "package.module:NAME"'
        )
    module, name = value.split(":")
    return module, name


@cache
def load_target(pyproject: Path = PYPROJECT) -> Target:
    """The configured target object; TargetError (one line) when the setting is missing or names nothing."""
    try:
        config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("lattice", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"lattice: cannot read {pyproject}: {exc}") from None
    if "target" not in config:
        raise TargetError(f'lattice: set [tool.lattice] target = "package.module:NAME" in {pyproject}')
    module_name, attribute = parse_reference(config["target"])
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"lattice: [tool.lattice] target: cannot import {module_name}: {exc}") from None
    target = getattr(module, attribute, None)
    if target is None:
        raise TargetError(f"lattice: [tool.lattice] target: {module_name} has no {attribute}")
    return target  # type: ignore[no-any-return]
