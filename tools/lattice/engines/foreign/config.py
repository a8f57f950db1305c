"""The foreign-mode configuration file (TOML), checked with a one-line error naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

Isolation = Literal["database", "schema", "self"]
TREE_ENV = "LATTICE_FOREIGN_TREE"  # the copy of the project a run works in (set by the runner)

# Keys earlier versions had, and what replaced them: said in the error instead of "Extra inputs".
_RETIRED = {
    "sweep": "the run now sweeps everything its own PostgreSQL role created, whatever the names",
}


class ForeignConfigError(ValueError):
    """The configuration cannot be used; the message is one line that names the file and the key."""


class DbEnv(BaseModel):
    """The foreign suite's environment variables that carry the database's coordinates."""

    model_config = ConfigDict(extra="forbid")
    host: str | None = None
    port: str | None = None
    user: str | None = None
    password: str | None = None
    name: str | None = None
    url: str | None = None
    # The scheme of `url` as the suite's settings expect it: `postgresql+asyncpg` for SQLAlchemy on asyncpg.
    scheme: str = "postgresql"

    @model_validator(mode="after")
    def _url_or_parts(self) -> Self:
        # The suite connects as a role of the run's own (what it creates is found by owner): it must be
        # told the user, in the URL or a variable of its own.
        if self.url is None and (self.name is None or self.host is None or self.user is None):
            raise ValueError(
                "give `url` (one variable for the whole URL) or at least `name`, `host` and `user`"
            )
        return self


class Install(BaseModel):
    """What the session installs, read from the foreign project's own files (nothing is built there)."""

    model_config = ConfigDict(extra="forbid")
    pyproject: str = "pyproject.toml"  # relative to rootdir
    dependencies: bool = True  # its [project].dependencies
    extras: list[str] = []  # names in its [project.optional-dependencies]
    groups: list[str] = []  # names in its [dependency-groups] (PEP 735)
    requirements: list[str] = []  # requirement files, relative to rootdir


class PytestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    args: list[str] = []  # added to every run, after the suite's own addopts
    drop_addopts: list[str] = []  # options removed from the suite's addopts (with their values)

    @model_validator(mode="after")
    def _options_only(self) -> Self:
        for option in self.drop_addopts:
            if not option.startswith("-") or "=" in option or " " in option:
                raise ValueError(f"{option!r} is not an option name (write it as `-n` or `--cov`)")
        return self


class ForeignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: Path | None = None  # the foreign project's tree (copied for each run); relative to the file
    rootdir: Path  # where the foreign suite runs (its cwd), inside `project`; relative to the file
    tests: list[str] = ["tests"]  # what pytest collects, relative to rootdir
    pythonpath: list[str] = []  # relative to rootdir
    dotenv: str | None = None  # relative to rootdir; its values never override the real environment
    env: dict[str, str] = {}
    isolation: Isolation = "database"
    migrate: str = ""  # a shell command run in rootdir, once per run into the template
    extensions: list[str] = []
    writes: list[str] = []  # fnmatch patterns (relative to `project`) of files the suite may write
    install: Install = Install()
    pytest: PytestOptions = PytestOptions()
    db_env: DbEnv

    def path(self, relative: str) -> Path:
        return (self.rootdir / relative).resolve()

    @property
    def tree(self) -> Path:
        """The project's tree: `project`, or `rootdir` when not given."""
        return self.project or self.rootdir


def load_config(path: Path, *, tree: Path | None = None) -> ForeignConfig:
    """Read and check `path`; relative paths inside it become absolute.

    `tree` is a copy of the project to run in instead of the original (the runner makes one per run):
    `project` becomes `tree`, and `rootdir` the same place inside it."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ForeignConfigError(f"lattice foreign: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ForeignConfigError(f"lattice foreign: {path} is not valid TOML: {exc}") from None
    for key, why in _RETIRED.items():
        if key in raw:
            raise ForeignConfigError(f"lattice foreign: {path}: `{key}`: no longer a key ({why}); remove it")
    try:
        config = ForeignConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ForeignConfigError(f"lattice foreign: {path}: `{key}`: {first['msg']}") from None
    config.rootdir = (path.parent / config.rootdir).resolve()
    if config.project is not None:
        config.project = (path.parent / config.project).resolve()
        if not config.project.is_dir():
            raise ForeignConfigError(
                f"lattice foreign: {path}: `project`: {config.project} is not a directory"
            )
        if not config.rootdir.is_relative_to(config.project):
            raise ForeignConfigError(
                f"lattice foreign: {path}: `rootdir`: {config.rootdir} is outside `project` {config.project}"
            )
    if not config.rootdir.is_dir():
        raise ForeignConfigError(f"lattice foreign: {path}: `rootdir`: {config.rootdir} is not a directory")
    if tree is not None:
        config.rootdir = tree / config.rootdir.relative_to(config.tree)
        config.project = tree
    return config


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (quotes stripped, comments and blanks skipped): what dotenv files hold."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values
