"""The pytest options of a foreign run: the suite's own configuration found inside its tree only, its
`addopts` with the config's `drop_addopts` removed and coverage reports sent outside the tree.

pytest looks for its configuration upward from the tests without a bound; a project kept inside
another (this repository's tests/foreign/projects) would otherwise run under the outer project's
pytest settings and conftest files. So the search stops at the project's root, `--confcutdir` keeps
conftest files above it out, and a suite without a configuration of its own gets an empty one.
"""

from __future__ import annotations

import configparser
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.lattice.engines.foreign.config import ForeignConfig, ForeignConfigError

# pytest-cov's report types that write a file (into the working directory unless given a path).
_REPORT_FILES = {"xml": "coverage.xml", "html": "htmlcov", "lcov": "coverage.lcov", "json": "coverage.json"}


@dataclass(frozen=True)
class SuiteIni:
    path: Path
    addopts: list[str]


def _section(path: Path) -> dict[str, Any] | None:
    """The pytest settings `path` holds, as pytest would read them; None when it holds none."""
    if path.name == "pyproject.toml":
        tool = tomllib.loads(path.read_text()).get("tool", {})
        table = tool.get("pytest", {})
        if "ini_options" in table:
            return dict(table["ini_options"])
        return dict(table) if table else None
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    section = {"setup.cfg": "tool:pytest"}.get(path.name, "pytest")
    if parser.has_section(section):
        return dict(parser.items(section))
    return {} if path.name in ("pytest.ini", ".pytest.ini") else None


def find_ini(start: Path, top: Path) -> SuiteIni | None:
    """The file pytest would take, searching from `start` up to `top` (inclusive) and no further."""
    for folder in (start, *start.parents):
        for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if path.is_file() and (section := _section(path)) is not None:
                raw = section.get("addopts", "")
                addopts = list(raw) if isinstance(raw, list) else shlex.split(str(raw))
                return SuiteIni(path, addopts)
        if folder == top:
            return None
    return None


def rewrite_addopts(addopts: list[str], drop: list[str], reports: Path) -> tuple[list[str], list[str]]:
    """`addopts` less each `drop` option (and its value: the next entry when that is not an option),
    with file-writing `--cov-report`s pointed into `reports`; also the options not found."""
    kept: list[str] = []
    missing = list(drop)
    entries = iter(enumerate(addopts))
    for index, entry in entries:
        name = entry.split("=", 1)[0]
        short = next((o for o in drop if len(o) == 2 and entry.startswith(o) and len(entry) > 2), None)
        if name in drop or short is not None:
            missing = [o for o in missing if o not in (name, short)]
            following = addopts[index + 1] if index + 1 < len(addopts) else "-"
            if "=" not in entry and short is None and not following.startswith("-"):
                next(entries)  # its value
            continue
        kept.append(entry)
    return _redirect_reports(kept, reports), missing


def _redirect_reports(addopts: list[str], reports: Path) -> list[str]:
    out: list[str] = []
    entries = iter(addopts)
    for entry in entries:
        if entry == "--cov-report":
            value = next(entries, "")
        elif entry.startswith("--cov-report="):
            value = entry.split("=", 1)[1]
        else:
            out.append(entry)
            continue
        kind = value.split(":", 1)[0]
        if kind in _REPORT_FILES:
            value = f"{kind}:{reports / _REPORT_FILES[kind]}"
        out.append(f"--cov-report={value}")
    return out


def pytest_options(config: ForeignConfig, reports: Path, empty_ini: Path) -> list[str]:
    """Everything the lattice adds to the suite's command line, before the config's `pytest.args`."""
    ini = find_ini(config.rootdir, config.tree)
    options = ["--confcutdir", str(config.tree)]
    if ini is None:
        # Its own (empty) settings, not those of whatever project holds this one.
        options += ["-c", str(empty_ini), "--rootdir", str(config.rootdir)]
        if config.pytest.drop_addopts:
            raise ForeignConfigError(
                "lattice foreign: `pytest.drop_addopts`: the suite has no pytest configuration"
                f" in {config.tree}, so no addopts to drop from"
            )
        return options
    addopts, missing = rewrite_addopts(ini.addopts, config.pytest.drop_addopts, reports)
    if missing:
        raise ForeignConfigError(
            f"lattice foreign: `pytest.drop_addopts`: {', '.join(missing)} not in the addopts of"
            f" {ini.path.relative_to(config.tree)} ({shlex.join(ini.addopts) or 'none'})"
        )
    if addopts != ini.addopts:
        options += ["-o", f"addopts={shlex.join(addopts)}"]
    return options
