"""The foreign-mode configuration file (TOML), checked with a one-line error naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

Isolation = Literal["database", "schema", "self"]


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

    @model_validator(mode="after")
    def _url_or_parts(self) -> Self:
        if self.url is None and self.name is None:
            raise ValueError("give `url` (one variable for the whole URL) or at least `name` and `host`")
        return self


class ForeignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rootdir: Path  # where the foreign suite runs (its cwd); relative to the config file
    tests: list[str] = ["tests"]  # what pytest collects, relative to rootdir
    pythonpath: list[str] = []  # relative to rootdir
    dotenv: str | None = None  # relative to rootdir; its values never override the real environment
    env: dict[str, str] = {}
    isolation: Isolation = "database"
    migrate: str = ""  # a shell command run in rootdir, once per run into the template
    extensions: list[str] = []
    sweep: list[str] = []  # extra database-name LIKE patterns to drop at the end (isolation "self")
    db_env: DbEnv

    def path(self, relative: str) -> Path:
        return (self.rootdir / relative).resolve()


def load_config(path: Path) -> ForeignConfig:
    """Read and check `path`; relative paths inside it become absolute."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ForeignConfigError(f"lattice foreign: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ForeignConfigError(f"lattice foreign: {path} is not valid TOML: {exc}") from None
    try:
        config = ForeignConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ForeignConfigError(f"lattice foreign: {path}: `{key}`: {first['msg']}") from None
    config.rootdir = (path.parent / config.rootdir).resolve()
    if not config.rootdir.is_dir():
        raise ForeignConfigError(f"lattice foreign: {path}: `rootdir`: {config.rootdir} is not a directory")
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
