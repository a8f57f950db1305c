"""The pre-commit hooks install from PyPI, so their pins repeat pyproject's: prove they never drift."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


WORKSPACE = ("retrace", "retrace-lattice", "retrace-client")


def _pyproject_pins() -> dict[str, str]:
    """Every pin of the workspace's members that pin anything (the client pins what its generator wrote)."""
    requirements = []
    for pyproject in (ROOT / "pyproject.toml", ROOT / "tools" / "lattice" / "pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        requirements += project["dependencies"]
        for extra in project["optional-dependencies"].values():
            requirements += extra
    return {_name(r): r.replace(" ", "") for r in requirements if _name(r) not in WORKSPACE}


def test_every_hook_dependency_is_pinned_as_in_pyproject() -> None:
    pins = _pyproject_pins()
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hook_requirements = [
        requirement
        for repo in config["repos"]
        for hook in repo["hooks"]
        for requirement in hook.get("additional_dependencies", [])
    ]
    assert hook_requirements, "the hooks name no dependencies at all"
    drifted = [r for r in hook_requirements if pins.get(_name(r)) != r.replace(" ", "")]
    assert not drifted, f"pre-commit pins differ from pyproject.toml: {drifted}"
