"""Foreign mode: the config file and its one-line errors, what gets installed, the suite's pytest
options, the tree check, the failure excerpt, and on a real server the run's role (schema isolation
by its search_path, everything it owns found and swept). A whole run that writes into its tree and
leaves a database behind fails naming both. (The passing runs are `nox -s foreign` on the fixtures.)"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tools.lattice.engines.foreign import databases, install, options, tree
from tools.lattice.engines.foreign.__main__ import LATTICE_ROOT, first_failure, outcomes
from tools.lattice.engines.foreign.config import (
    DbEnv,
    ForeignConfig,
    ForeignConfigError,
    load_config,
    read_dotenv,
)
from tools.lattice.engines.foreign.plugin import Handoff, _database_env, _sweep
from tools.lattice.plugin.workerstate import WorkerLattice

FOREIGN = Path(__file__).parents[1] / "foreign"


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "suite").mkdir(exist_ok=True)
    path = tmp_path / "lattice.toml"
    path.write_text(text)
    return path


def test_the_templates_config_loads_with_paths_made_absolute(tmp_path: Path) -> None:
    config = load_config(FOREIGN / "fastapi-template.toml")
    project = FOREIGN / "projects" / "full-stack-fastapi-template"
    assert (config.project, config.rootdir) == (project, project / "backend")
    assert config.path(config.dotenv or "") == project / ".env"
    assert (config.isolation, config.migrate, config.db_env.user) == (
        "database",
        "alembic upgrade head",
        "POSTGRES_USER",
    )
    # A run's copy of the project: the same places inside it.
    moved = load_config(FOREIGN / "fastapi-template.toml", tree=tmp_path / "copy")
    assert (moved.tree, moved.rootdir) == (tmp_path / "copy", tmp_path / "copy" / "backend")


MINIMAL = 'rootdir = "suite"\n[db_env]\nurl = "DB"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rootdir = "suite"\n', "`db_env`: Field required"),
        ('rootdir = "suite"\nisolation = "clone"\n[db_env]\nurl = "DB"\n', "`isolation`: Input should be"),
        ('rootdir = "suite"\nmigrate = 3\n[db_env]\nurl = "DB"\n', "`migrate`: Input should be a valid str"),
        ('rootdir = "suite"\nextra_key = 1\n[db_env]\nurl = "DB"\n', "`extra_key`: Extra inputs"),
        ('rootdir = "suite"\n[db_env]\nhost = "H"\nname = "N"\n', "`db_env`: Value error, give `url`"),
        ('rootdir = "nowhere"\n[db_env]\nurl = "DB"\n', "`rootdir`: "),
        ('project = "suite"\nrootdir = "."\n[db_env]\nurl = "DB"\n', "`rootdir`: "),
        ('sweep = ["test_%"]\n' + MINIMAL, "`sweep`: no longer a key"),
        (
            'rootdir = "suite"\n[install]\ngroup = ["dev"]\n[db_env]\nurl = "DB"\n',
            "`install.group`: Extra inputs",
        ),
        (
            'rootdir = "suite"\n[pytest]\ndrop_addopts = ["cov"]\n[db_env]\nurl = "DB"\n',
            "`pytest`: Value error, 'cov' is not an option",
        ),
        ("rootdir = \n", "is not valid TOML"),
    ],
)
def test_a_mistake_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ForeignConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def _project(tmp_path: Path, pyproject: str, config: str = "") -> ForeignConfig:
    (tmp_path / "suite").mkdir(exist_ok=True)
    (tmp_path / "suite" / "pyproject.toml").write_text(pyproject)
    return load_config(_write(tmp_path, f'rootdir = "suite"\n{config}[db_env]\nurl = "DB"\n'))


PYPROJECT = """
[project]
name = "x"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.110"]
[project.optional-dependencies]
test = ["pytest>=8"]
[dependency-groups]
test = ["pytest-asyncio", "httpx"]
dev = [{include-group = "test"}, "ruff"]
loop = [{include-group = "loop"}]
"""


def test_install_takes_dependencies_extras_groups_and_files_from_the_foreign_project(tmp_path: Path) -> None:
    (tmp_path / "suite" / "requirements").mkdir(parents=True)
    (tmp_path / "suite" / "requirements" / "test.txt").write_text("freezegun\n")
    config = _project(
        tmp_path,
        PYPROJECT,
        '[install]\nextras = ["test"]\ngroups = ["dev"]\nrequirements = ["requirements/test.txt"]\n',
    )
    assert install.requirements(config) == [
        "fastapi>=0.110",
        "pytest>=8",
        "pytest-asyncio",
        "httpx",
        "ruff",
        "-r",
        str(tmp_path / "suite" / "requirements" / "test.txt"),
    ]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('extras = ["dev"]', "`install.extras`: {} has no extra 'dev' (it has: test)"),
        (
            'groups = ["tests"]',
            "`install.groups`: {} has no dependency group 'tests' (it has: dev, loop, test)",
        ),
        ('groups = ["loop"]', "`install.groups`: {}: group 'loop' includes itself"),
        ('requirements = ["req.txt"]', "`install.requirements`: "),
        ('pyproject = "../nowhere.toml"', "`install.pyproject`: cannot read"),
    ],
)
def test_an_install_mistake_is_one_line_naming_what_the_project_has(
    tmp_path: Path, section: str, message: str
) -> None:
    config = _project(tmp_path, PYPROJECT, f"[install]\n{section}\n")
    with pytest.raises(ForeignConfigError) as caught:
        install.requirements(config)
    assert message.format(tmp_path / "suite" / "pyproject.toml") in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_project_needing_a_newer_python_is_refused_in_one_line(tmp_path: Path) -> None:
    config = _project(tmp_path, PYPROJECT.replace(">=3.11", ">=3.14"))
    install.check_python(config, "3.14.1")
    with pytest.raises(ForeignConfigError) as caught:
        install.check_python(config, "3.13.7")
    assert "requires Python >=3.14, and this is 3.13.7" in str(caught.value)
    assert "nox -P" in str(caught.value)


@pytest.mark.parametrize(
    ("addopts", "drop", "kept"),
    [
        (["-n", "auto", "--cov=notes", "-ra"], ["-n", "--cov"], ["-ra"]),
        (["-nauto", "--cov", "notes", "--strict-markers"], ["-n", "--cov"], ["--strict-markers"]),
        (["--cov", "--strict-markers"], ["--cov"], ["--strict-markers"]),
        (
            ["--cov-report", "xml", "--cov-report=term"],
            [],
            ["--cov-report=xml:{}/coverage.xml", "--cov-report=term"],
        ),
        (
            ["--cov-report=html:out", "--cov-report", "lcov"],
            [],
            ["--cov-report=html:{}/htmlcov", "--cov-report=lcov:{}/coverage.lcov"],
        ),
    ],
)
def test_addopts_lose_the_dropped_options_and_reports_go_outside(
    tmp_path: Path, addopts: list[str], drop: list[str], kept: list[str]
) -> None:
    assert options.rewrite_addopts(addopts, drop, tmp_path) == ([k.format(tmp_path) for k in kept], [])


def test_a_dropped_option_not_in_addopts_is_named(tmp_path: Path) -> None:
    config = _project(
        tmp_path, '[tool.pytest.ini_options]\naddopts = "-n auto"\n', '[pytest]\ndrop_addopts = ["--cov"]\n'
    )
    with pytest.raises(
        ForeignConfigError,
        match=r"`pytest.drop_addopts`: --cov not in the addopts of pyproject.toml \(-n auto\)",
    ):
        options.pytest_options(config, tmp_path / "logs", tmp_path / "empty.ini")


def test_the_suites_pytest_settings_are_looked_for_inside_its_tree_only(tmp_path: Path) -> None:
    # The outer project's settings (as this repository's are to its tests/foreign/projects) are not the
    # suite's: with none of its own, it gets an empty file, and no conftest above its tree.
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p no:nothing"\n')
    config = _project(tmp_path, '[project]\nname = "x"\n')
    empty = tmp_path / "empty.ini"
    assert options.find_ini(config.rootdir, config.tree) is None
    assert options.pytest_options(config, tmp_path, empty) == [
        "--confcutdir",
        str(config.tree),
        "-c",
        str(empty),
        "--rootdir",
        str(config.rootdir),
    ]
    (tmp_path / "suite" / "pytest.ini").write_text("[pytest]\naddopts = -q\n")
    assert options.find_ini(config.rootdir, config.tree) == options.SuiteIni(
        tmp_path / "suite" / "pytest.ini", ["-q"]
    )


def test_tree_changes_are_named_but_for_allowed_writes(tmp_path: Path) -> None:
    (tmp_path / "kept.py").write_text("x")
    (tmp_path / "gone.py").write_text("x")
    (tmp_path / ".venv").mkdir()
    before = tree.snapshot(tmp_path)
    (tmp_path / "kept.py").write_text("changed")
    (tmp_path / "gone.py").unlink()
    (tmp_path / "coverage.xml").write_text("<x/>")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "log.txt").write_text("x")
    (tmp_path / ".venv" / "ignored").write_text("x")
    after = tree.snapshot(tmp_path)
    assert tree.changes(before, after) == [
        "added coverage.xml",
        "added out/log.txt",
        "changed kept.py",
        "removed gone.py",
    ]
    assert tree.changes(before, after, ["coverage.xml", "out/*"]) == ["changed kept.py", "removed gone.py"]


def test_the_first_failure_is_shown_whole_however_long() -> None:
    long_traceback = "\n".join(f"E   line {n}" for n in range(400))
    output = (
        "collected 3 items\n\n"
        "=================================== FAILURES ===================================\n"
        f"________________________________ test_first ________________________________\n{long_traceback}\n"
        "________________________________ test_second ________________________________\nE   other\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_x.py::test_first\nFAILED tests/test_x.py::test_second\n"
        "========================= 2 failed, 1 passed in 1.00s ==========================\n"
    )
    shown = first_failure(output)
    assert "E   line 0\n" in shown
    assert "E   line 399\n" in shown
    assert "E   other" not in shown
    assert shown.rstrip().endswith("2 failed, 1 passed in 1.00s ==========================")
    assert outcomes(output) == {"failed": 2, "passed": 1}
    assert first_failure("ERROR: usage: bad option\n") == "ERROR: usage: bad option\n"


def test_dotenv_values_lose_quotes_comments_and_export(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# c\nA=1\nB=\"two words\"\nexport C='x'\n\nEMPTY=\nnot a pair\n")
    assert read_dotenv(dotenv) == {"A": "1", "B": "two words", "C": "x", "EMPTY": ""}


def test_database_variables_by_part_or_as_one_url_in_the_suites_scheme() -> None:
    url = databases.with_role("postgresql://postgres@127.0.0.1:6543/lattice_ab_gw1", "lattice_ab", "s:cret")
    assert url == "postgresql://lattice_ab:s%3Acret@127.0.0.1:6543/lattice_ab_gw1"
    parts = DbEnv(host="H", port="P", user="U", password="W", name="N")
    assert _database_env(parts, url) == {
        "H": "127.0.0.1",
        "P": "6543",
        "U": "lattice_ab",
        "W": "s:cret",
        "N": "lattice_ab_gw1",
    }
    assert _database_env(DbEnv(url="DATABASE_URL", scheme="postgresql+asyncpg"), url) == {
        "DATABASE_URL": url.replace("postgresql", "postgresql+asyncpg")
    }


# ---- on a real server


@pytest.fixture
def handoff(lattice: WorkerLattice) -> Iterator[Handoff]:
    """A run's identity on this worker's server, swept at the end by the code under test."""
    run = Handoff(secrets.token_hex(4), "", lattice.plane.database_url, secrets.token_hex(8), None)
    yield run
    _sweep(run)
    assert databases.roles_like(run.admin_url, f"{run.prefix}%") == []


def _as(handoff: Handoff, role: str, database: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
    url = handoff.admin_url if database is None else databases.with_database(handoff.admin_url, database)
    return psycopg.connect(
        databases.libpq_url(databases.with_role(url, role, handoff.password)), autocommit=True
    )


def test_a_schema_reaches_every_connection_through_the_roles_search_path(handoff: Handoff) -> None:
    # No PGOPTIONS, no driver option: what asyncpg (which ignores PGOPTIONS) sees too. The schema bears
    # the role's name, which the default `"$user", public` finds; the role's own setting says it outright,
    # for a server configured without `$user`.
    role = f"{handoff.prefix}_gw0"
    databases.create_role(handoff.admin_url, role, handoff.password)
    databases.create_schema(handoff.admin_url, role, owner=role)
    with _as(handoff, role) as conn:
        assert conn.execute("SHOW search_path").fetchone() == (f"{role}, public",)
        conn.execute("CREATE TABLE notes (id int)")
        row = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'notes'"
        ).fetchall()
    assert row == [(role,)]
    assert databases.owned_by(handoff.admin_url, [role], ours=handoff.prefix) == []


def test_what_the_runs_role_made_elsewhere_is_named_and_swept(handoff: Handoff) -> None:
    databases.create_role(handoff.admin_url, handoff.prefix, handoff.password, createdb=True)
    outside = f"leak_{handoff.run}"  # a database the run did not name: made by the admin, written by the role
    databases.create_database(handoff.admin_url, outside, owner="postgres")
    try:
        with databases.admin(databases.with_database(handoff.admin_url, outside)) as conn:
            conn.execute(f'GRANT CREATE ON SCHEMA public TO "{handoff.prefix}"')
        with _as(handoff, handoff.prefix, outside) as conn:
            conn.execute("CREATE TABLE public.users (id int)")
        with _as(handoff, handoff.prefix) as conn:
            conn.execute(f'CREATE DATABASE "test_db_{handoff.run}"')
        left = [str(o) for o in databases.owned_by(handoff.admin_url, [handoff.prefix], ours=handoff.prefix)]
        assert left == [f"database test_db_{handoff.run}", f"table public.users in database {outside}"]
        _sweep(handoff)
        assert databases.databases_like(handoff.admin_url, f"test\\_db\\_{handoff.run}") == []
        with databases.admin(databases.with_database(handoff.admin_url, outside)) as conn:
            assert conn.execute("SELECT to_regclass('public.users')").fetchone() == (None,)
    finally:
        databases.drop_databases(handoff.admin_url, [outside])


LEAKY_TEST = """
import os
from pathlib import Path

import psycopg


def test_leaves_a_database_and_a_file():
    with psycopg.connect(os.environ["LEAKY_URL"], autocommit=True) as conn:
        conn.execute('CREATE DATABASE "leaky_{run}"')
    Path("written.txt").write_text("x")
"""


def test_a_run_that_writes_into_its_tree_and_leaves_a_database_fails_naming_both(tmp_path: Path) -> None:
    run = secrets.token_hex(4)
    (tmp_path / "leaky" / "tests").mkdir(parents=True)
    (tmp_path / "leaky" / "pyproject.toml").write_text(
        '[project]\nname = "leaky"\nrequires-python = ">=3.11"\n'
    )
    (tmp_path / "leaky" / "tests" / "test_leak.py").write_text(LEAKY_TEST.format(run=run))
    config = tmp_path / "leaky.toml"
    config.write_text('rootdir = "leaky"\nisolation = "self"\n[db_env]\nurl = "LEAKY_URL"\n')
    done = subprocess.run(
        [sys.executable, "-m", "tools.lattice.engines.foreign", "--config", str(config), "-p", "no:randomly"],
        cwd=LATTICE_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(LATTICE_ROOT)},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "1 passed" in output
    assert f"the run left database leaky_{run} on the server" in output
    assert "foreign: run: added written.txt (in the run's copy)" in output
    assert not (tmp_path / "leaky" / "written.txt").exists()
    assert sorted(p.name for p in (tmp_path / "leaky").iterdir()) == ["pyproject.toml", "tests"]


def test_a_second_holder_of_the_self_lock_is_told_and_waits_for_the_first(lattice: WorkerLattice) -> None:
    url, key = lattice.plane.database_url, secrets.randbits(31)  # a key of this test's own
    first = databases.hold_lock(url, key, lambda: pytest.fail("the first holder waited"))
    waited: list[bool] = []
    holder: list[psycopg.Connection[tuple[object, ...]]] = []
    second = threading.Thread(
        target=lambda: holder.append(databases.hold_lock(url, key, lambda: waited.append(True)))
    )
    second.start()
    second.join(timeout=2)
    assert waited == [True]
    assert second.is_alive()  # still waiting while the first holds it
    first.close()
    second.join(timeout=30)
    assert not second.is_alive()
    holder[0].close()
