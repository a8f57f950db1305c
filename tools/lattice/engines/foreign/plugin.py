"""The foreign-mode pytest plugin:
`pytest -p tools.lattice.engines.foreign.plugin --lattice-foreign-config FILE`.

Foreign apps build their settings and engine when their conftest is imported, so everything happens in
`pytest_load_initial_conftests`, before that import. The controller starts a service set, migrates a
template once, and hands the run to its xdist workers through the environment they inherit
(`PYTEST_XDIST_WORKER` is set before a worker's config exists; `workerinput` would arrive too late).
Each process then takes a database (or schema) of its own and points the suite's variables at it. The
controller drops everything the run made when pytest ends, on every path (pass, fail, Ctrl-C, a
bootstrap that failed half-way).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from tools.lattice.engines.foreign import databases
from tools.lattice.engines.foreign.config import (
    TREE_ENV,
    DbEnv,
    ForeignConfig,
    ForeignConfigError,
    load_config,
    read_dotenv,
)
from tools.lattice.services import ServiceUnavailable, start_services

HANDOFF = "LATTICE_FOREIGN_RUN"
OPTION = "lattice_foreign_config"


@dataclass(frozen=True)
class Handoff:
    """What the controller tells its workers: the run, the server, its role and the template to clone."""

    run: str
    config: str
    admin_url: str
    password: str  # of the run's roles (a trust-auth server ignores it; others need it)
    template: str | None

    @property
    def prefix(self) -> str:
        return f"lattice_{self.run}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lattice-foreign", "the lattice's foreign mode")
    group.addoption(
        "--lattice-foreign-config",
        dest=OPTION,
        default=None,
        help="a foreign-mode TOML file (see docs/testing.md); overrides the ini option",
    )
    parser.addini(OPTION, "a foreign-mode TOML file, relative to the ini file's directory", default="")


def _config_path(config: pytest.Config) -> Path | None:
    given = getattr(config.known_args_namespace, OPTION, None)
    if given:
        return Path(given).resolve()
    ini = str(config.getini(OPTION) or "")
    if ini:
        return (config.rootpath / ini).resolve() if config.inipath is None else config.inipath.parent / ini
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    try:
        if worker is not None and HANDOFF in os.environ:
            handoff = Handoff(**json.loads(os.environ[HANDOFF]))
            _enter(_load(Path(handoff.config)), handoff, worker)
            return
        path = _config_path(early_config)
        if path is None:
            raise pytest.UsageError("lattice foreign: give --lattice-foreign-config FILE (or the ini option)")
        config = _load(path)
        handoff = _bootstrap(config, path, early_config.add_cleanup)
        os.environ[HANDOFF] = json.dumps(asdict(handoff))
        _enter(config, handoff, "main")
    except (ForeignConfigError, ServiceUnavailable) as exc:
        raise pytest.UsageError(str(exc)) from None


def _load(path: Path) -> ForeignConfig:
    """The config, in the copy of the project the runner made for this run (when it made one)."""
    tree = os.environ.get(TREE_ENV)
    return load_config(path, tree=Path(tree) if tree else None)


def _bootstrap(config: ForeignConfig, path: Path, on_exit: Callable[[Callable[[], None]], None]) -> Handoff:
    """Services, the run's role and the template; everything registered for removal before it is made."""
    services = start_services()
    on_exit(services.stop)
    handoff = Handoff(
        run=secrets.token_hex(4),
        config=str(path),
        admin_url=services.database_url,
        password=secrets.token_hex(16),
        template=None,
    )
    if config.isolation == "self":
        lock = databases.hold_lock(handoff.admin_url, databases.SELF_LOCK, _say_waiting)
        on_exit(lock.close)  # after the sweep (cleanups run last-registered first)
    on_exit(lambda: _sweep_at_exit(handoff))
    # One role for the run (each process its own in `schema` isolation): the suite signs in as it, so
    # whatever the run creates on the server, under any name, is found and swept by its owner.
    databases.create_role(
        handoff.admin_url, handoff.prefix, handoff.password, createdb=config.isolation == "self"
    )
    if config.isolation == "database":
        template = f"{handoff.prefix}_template"
        databases.create_database(handoff.admin_url, template, owner=handoff.prefix)
        handoff = Handoff(**{**asdict(handoff), "template": template})
        template_url = databases.with_database(handoff.admin_url, template)
        databases.create_extensions(template_url, config.extensions)
        if config.migrate:
            url = databases.with_role(template_url, handoff.prefix, handoff.password)
            _run_migration(config, {**os.environ, **_suite_env(config), **_database_env(config.db_env, url)})
    elif config.isolation == "self":
        base = f"{handoff.prefix}_base"
        databases.create_database(handoff.admin_url, base, owner=handoff.prefix)
        databases.create_extensions(databases.with_database(handoff.admin_url, base), config.extensions)
    else:
        databases.create_extensions(handoff.admin_url, config.extensions)
    return handoff


def _say_waiting() -> None:
    print(
        "lattice foreign: waiting for another self-isolating run on this server to end (its suite names"
        " its databases itself, so two at once would share them)",
        file=sys.stderr,
        flush=True,
    )


def _enter(config: ForeignConfig, handoff: Handoff, worker: str) -> None:
    """Give this process its database or schema, and the suite's environment pointing at it."""
    for entry in reversed(config.pythonpath):
        sys.path.insert(0, str(config.path(entry)))
    env = _suite_env(config)
    name = f"{handoff.prefix}_{worker}"
    if config.isolation == "database":
        databases.create_database(handoff.admin_url, name, owner=handoff.prefix, template=handoff.template)
        url = databases.with_database(handoff.admin_url, name)
        env |= _database_env(config.db_env, databases.with_role(url, handoff.prefix, handoff.password))
    elif config.isolation == "schema":
        # A role and schema per process: the schema is first on the role's search_path, which the
        # server applies to every connection, whatever the driver (asyncpg ignores PGOPTIONS).
        databases.create_role(handoff.admin_url, name, handoff.password)
        databases.create_schema(handoff.admin_url, name, owner=name)
        env |= _database_env(config.db_env, databases.with_role(handoff.admin_url, name, handoff.password))
        if config.migrate:
            _run_migration(config, {**os.environ, **env})
    else:
        base = databases.with_database(handoff.admin_url, f"{handoff.prefix}_base")
        env |= _database_env(config.db_env, databases.with_role(base, handoff.prefix, handoff.password))
    os.environ.update(env)


def _suite_env(config: ForeignConfig) -> dict[str, str]:
    env: dict[str, str] = {}
    if config.dotenv:
        dotenv = config.path(config.dotenv)
        if not dotenv.is_file():
            raise ForeignConfigError(f"lattice foreign: `dotenv`: {dotenv} does not exist")
        env |= {k: v for k, v in read_dotenv(dotenv).items() if k not in os.environ}
    return env | config.env


def _database_env(names: DbEnv, url: str) -> dict[str, str]:
    """The suite's own variables for `url`: one URL variable, or host/port/user/password/name."""
    if names.url is not None:
        return {names.url: names.scheme + "://" + databases.libpq_url(url).partition("://")[2]}
    parts = urlsplit(url)
    values = {
        names.host: parts.hostname or "127.0.0.1",
        names.port: str(parts.port or 5432),
        names.user: unquote(parts.username or ""),
        names.password: unquote(parts.password or ""),
        names.name: parts.path.lstrip("/"),
    }
    return {name: value for name, value in values.items() if name is not None}


def _run_migration(config: ForeignConfig, env: dict[str, str]) -> None:
    paths = [str(config.path(p)) for p in config.pythonpath]
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # nothing written into the foreign project's tree
    # The tools of the venv pytest runs in (e.g. `alembic`), even when that venv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = shlex.split(config.migrate)
    try:
        done = subprocess.run(
            command, cwd=config.rootdir, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ForeignConfigError(
            f"lattice foreign: `migrate`: cannot run {command[0]!r}: {exc.strerror}"
        ) from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ForeignConfigError(
            f"lattice foreign: `migrate` ({config.migrate}) failed with exit {done.returncode}: {tail[0]}"
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller, its workers gone: anything on the server the run's roles own, outside the run's
    own databases and schemas, is named and fails the run; then the sweep, and anything of the run it
    could not remove is named and fails it too. (The same sweep runs again at exit, for the paths that
    never get here.)"""
    if hasattr(session.config, "workerinput") or HANDOFF not in os.environ:
        return  # an xdist worker (it has `workerinput`), or a run that never got going
    handoff = Handoff(**json.loads(os.environ[HANDOFF]))
    problems: list[str] = []
    try:
        roles = databases.roles_like(handoff.admin_url, _like(handoff.prefix))
        left = databases.owned_by(handoff.admin_url, roles, ours=handoff.prefix)
        problems += [f"the run left {thing} on the server (removed by the sweep)" for thing in left]
        _sweep(handoff)
        problems += [f"the sweep could not remove {thing}" for thing in _remains(handoff)]
    except psycopg.Error as exc:
        problems.append(f"the server could not be checked: {str(exc).strip().splitlines()[0]}")
    for problem in problems:
        print(f"lattice foreign: {problem}", file=sys.stderr)
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _like(prefix: str) -> str:
    return prefix.replace("_", r"\_") + "%"


def _sweep(handoff: Handoff) -> None:
    """Drop every database the run's roles own, what they own in any other database, the run's
    schemas, and the roles."""
    url = handoff.admin_url
    roles = databases.roles_like(url, _like(handoff.prefix))
    owned, holding = databases.where_owned(url, roles)
    doomed = sorted({*databases.databases_like(url, _like(handoff.prefix)), *owned})
    databases.drop_databases(url, doomed)
    databases.drop_schemas(url, databases.schemas_like(url, _like(handoff.prefix)))
    databases.drop_owned(url, roles, sorted(set(holding) - set(doomed)))


def _remains(handoff: Handoff) -> list[str]:
    """The run's roles, databases and schemas still on the server."""
    like, url = _like(handoff.prefix), handoff.admin_url
    return [
        *(f"role {name}" for name in databases.roles_like(url, like)),
        *(f"database {name}" for name in databases.databases_like(url, like)),
        *(f"schema {name}" for name in databases.schemas_like(url, like)),
    ]


def _sweep_at_exit(handoff: Handoff) -> None:
    try:
        _sweep(handoff)
    except Exception as exc:  # the server may be gone already (Ctrl-C stopped it): nothing is left there
        print(f"lattice foreign: sweep of run {handoff.run} skipped: {exc}", file=sys.stderr)
