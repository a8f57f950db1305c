"""docs/adopting.md, run as written: the lattice's wheel (built from this checkout) and tinyapp's
dependencies installed as the page's `pip install` lines say into a clean virtualenv, the files its code
blocks name written into an empty project, and the commands it shows run there on this run's own servers
(the external provider).

From outside, the tests check what the page promises: the fixtures work on an app that is not Retrace, with
no `app` package anywhere, each xdist worker owned a schema, a Redis namespace, a queue, a Maildir and
accounts of its own, the data was put back between tests, nothing of the child run was left behind, and the
guard's line is the page's.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.workspace_builds import MEMBERS, UV, build_wheel, clean_venv, uv
from tools.lattice import Target, current_run, load_target
from tools.lattice.planes.naming import runs_root
from tools.lattice.plugin.childenv import child_pytest_env

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "adopting.md"
PROBE = Path(__file__).with_name("plane_probe.py")
# A fenced block that names its file: ```python title="tinyapp/app.py"
_TITLED_BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.MULTILINE | re.DOTALL)
# The snippet for a project that has a `tools` package of its own: not a file of the quick start.
SHADOW_FIX = "tools/__init__.py"
CHILD_TIMEOUT_S = 240
# The page's install line for the lattice: the extras it names, from the repository's subdirectory.
_LATTICE_LINE = re.compile(
    r'^pip install "retrace-lattice\[([\w,]+)\] @ git\+https://<repo>#subdirectory=(\S+)"$'
)


def titled_blocks(page: str) -> dict[str, str]:
    """File name -> contents, for every fenced block of `page` that names its file."""
    blocks: dict[str, str] = {}
    for name, body in _TITLED_BLOCK.findall(page):
        assert name not in blocks, f"docs/adopting.md names {name} twice"
        blocks[name] = body
    return blocks


def command_line(page: str, command: str) -> list[str]:
    """`command` as argv, once the page is seen to show it as a console line (`$ command`)."""
    assert command in console_lines(page), f"docs/adopting.md no longer shows `$ {command}`"
    return command.split()


def console_lines(page: str) -> list[str]:
    """The page's `$ ...` lines, without the `$ ` and without a trailing `# comment`."""
    return [line[2:].split("  #")[0].strip() for line in page.splitlines() if line.startswith("$ ")]


def install_requests(page: str) -> tuple[list[str], str, list[str]]:
    """(the lattice's extras, the folder it is installed from, tinyapp's dependencies) from the page's
    `pip install` lines."""
    lines = [line for line in console_lines(page) if line.startswith("pip install ")]
    lattice = [match for line in lines if (match := _LATTICE_LINE.match(line))]
    assert len(lattice) == 1, f"docs/adopting.md has no single git install line of the lattice: {lines}"
    extras, subdirectory = lattice[0].group(1).split(","), lattice[0].group(2)
    distribution = tomllib.loads((REPO / subdirectory / "pyproject.toml").read_text())["project"]
    assert distribution["name"] == "retrace-lattice"
    assert set(extras) <= set(distribution["optional-dependencies"])
    (own,) = [line for line in lines if "fastapi" in line]
    return extras, subdirectory, own.removeprefix("pip install ").split()


def write_project(directory: Path, blocks: dict[str, str]) -> None:
    for name, body in blocks.items():
        if name == SHADOW_FIX:
            continue
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)


def run_child(directory: Path, venv: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`argv` (a console script of the adopter's `venv`) in `directory`, on this run's servers."""
    run = current_run()
    assert run is not None, "the lattice's run is not set up in this process"
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        cwd=directory,
        # Nothing of this project's environment: no PYTHONPATH to the checkout, no coverage settings.
        env={
            **{k: v for k, v in child_pytest_env().items() if not k.startswith(("COVERAGE", "PYTHON"))},
            "LATTICE_PROVIDER": "external",
            "LATTICE_DATABASE_URL": run.database_url,
            "LATTICE_REDIS_URL": run.redis_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text()


@pytest.fixture(scope="module")
def venv(page: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv with what the page's install lines name: the lattice's wheel with its extras,
    tinyapp's dependencies (at this environment's versions, so the run is repeatable)."""
    if UV is None:
        pytest.skip("uv is not on PATH (the nox sessions make their venvs with it)")
    extras, subdirectory, dependencies = install_requests(page)
    root = tmp_path_factory.mktemp("adopter")
    assert subdirectory == MEMBERS["retrace-lattice"][0], "the page installs the lattice from another folder"
    wheel = build_wheel("retrace-lattice", root)
    clean_venv(root)
    pinned = [f"{name}=={version(name.split('[')[0])}" for name in dependencies]
    uv(
        "pip",
        "install",
        "--quiet",
        "--python",
        str(root / "venv" / "bin" / "python"),
        f"{wheel}[{','.join(extras)}]",
        *pinned,
        cwd=root,
    )
    return root / "venv"


@pytest.fixture(scope="module")
def blocks(page: str) -> dict[str, str]:
    found = titled_blocks(page)
    expected = {"pyproject.toml", "tinyapp/migrations.sql", "tinyapp/app.py", "tinyapp/target.py"}
    assert expected <= set(found), f"docs/adopting.md lacks {sorted(expected - set(found))}"
    return found


def test_the_quick_start_runs_isolated_on_two_workers(
    page: str, blocks: dict[str, str], venv: Path, tmp_path: Path
) -> None:
    project, probe_out = tmp_path / "project", tmp_path / "probe"
    project.mkdir()
    probe_out.mkdir()
    write_project(project, blocks)
    shutil.copy(PROBE, project / "conftest.py")
    argv = command_line(page, "pytest -n 2")

    done = run_child(project, venv, argv, PROBE_OUT=str(probe_out))

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    tests = sum(body.count("\ndef test_") for name, body in blocks.items() if name.startswith("tests/"))
    assert f"{tests} passed" in done.stdout, output
    started = re.search(r"^run ([0-9a-f]{12}) · suite integration · provider external", done.stdout, re.M)
    assert started, output
    run_id = started.group(1)

    lines = [line for path in probe_out.glob("*.jsonl") for line in path.read_text().splitlines()]
    records = [json.loads(line) for line in lines]
    assert len(records) == tests
    assert {r["worker"] for r in records} == {"gw0", "gw1"}  # xdist hands each of two workers a test
    for record in records:
        n = record["worker"].removeprefix("gw")
        assert record == {
            "worker": f"gw{n}",
            "schema": f"test_w{n}_{run_id}",
            "notes_at_start": 0,
            "namespace": f"lattice:{run_id}:w{n}",
            "broker_namespace": f"lattice:{run_id}:w{n}",
            "queue": f"notes__w{n}",
            "maildir": str(runs_root() / run_id / f"w{n}" / "mail"),
            "users": [f"test_other_w{n}_{run_id}@example.test", f"test_user_w{n}_{run_id}@example.test"],
            "app_importable": False,
        }

    run = current_run()
    assert run is not None
    engine = create_engine(load_target().sqlalchemy_url(run.database_url))
    try:
        with engine.connect() as conn:
            schemas = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :pattern"),
                {"pattern": f"test\\_w%\\_{run_id}"},
            ).all()
    finally:
        engine.dispose()
    assert schemas == []
    client = redis.Redis.from_url(run.redis_url)
    try:
        assert list(client.scan_iter(match=f"lattice:{run_id}:*")) == []
    finally:
        client.close()
    assert not (runs_root() / run_id).exists()


def test_a_column_missing_from_the_migrations_stops_the_run_with_the_pages_line(
    page: str, blocks: dict[str, str], venv: Path, tmp_path: Path
) -> None:
    write_project(tmp_path, blocks)
    migrations = tmp_path / "tinyapp" / "migrations.sql"
    without_words, removed = re.subn(r",\s*words INTEGER", "", migrations.read_text())
    assert removed == 1, "the page's migrations.sql no longer has notes.words"
    migrations.write_text(without_words)
    shown = next(line for line in page.splitlines() if "the models and the migrations disagree" in line)

    done = run_child(tmp_path, venv, command_line(page, "pytest"))
    guard = run_child(tmp_path, venv, ["python", "-m", "tools.lattice", "guard"])

    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error: no test ran
    assert shown in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert guard.returncode == 1, guard.stdout + guard.stderr
    assert shown.removeprefix("ERROR: ") in guard.stdout.splitlines()


def test_the_pages_target_answers_every_question_of_the_protocol(blocks: dict[str, str]) -> None:
    """Each member of `Target`, with the protocol's parameters, on the class TARGET is an instance of."""
    module = ast.parse(blocks["tinyapp/target.py"])
    (assignment,) = [
        node
        for node in module.body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "TARGET"
    ]
    assert ast.unparse(assignment.annotation) == "Target"
    assert isinstance(assignment.value, ast.Call)
    class_name = ast.unparse(assignment.value.func)
    (cls,) = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    attributes = {ast.unparse(t) for n in cls.body if isinstance(n, ast.Assign) for t in n.targets}

    questions = {name for name in vars(Target) if not name.startswith("_")}
    assert set(Target.__annotations__) <= attributes
    assert questions <= set(methods), f"unanswered: {sorted(questions - set(methods))}"
    for name in questions:
        parameters = inspect.signature(getattr(Target, name)).parameters.values()
        protocol = (
            [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD],
            [p.name for p in parameters if p.kind is p.KEYWORD_ONLY],
        )
        args = methods[name].args
        assert ([a.arg for a in args.args], [a.arg for a in args.kwonlyargs]) == protocol, name


def test_a_tools_package_of_your_own_keeps_the_lattice_importable_with_the_pages_line(
    blocks: dict[str, str], tmp_path: Path
) -> None:
    """The wheel's layout (a namespace `tools` holding `lattice`) beside a project's regular `tools`."""
    wheel, project = tmp_path / "site-packages", tmp_path / "project"
    (wheel / "tools" / "lattice").mkdir(parents=True)
    (wheel / "tools" / "lattice" / "__init__.py").write_text("")
    (project / "tools").mkdir(parents=True)
    own = project / "tools" / "__init__.py"
    probe = f"import sys; sys.path[:0] = [{str(project)!r}, {str(wheel)!r}]; import tools.lattice"

    def imports() -> subprocess.CompletedProcess[str]:
        # -S -I: nothing but the two folders provides `tools` (not this environment's own).
        return subprocess.run([sys.executable, "-S", "-I", "-c", probe], capture_output=True, text=True)

    own.write_text("")
    shadowed = imports()
    assert shadowed.returncode == 1
    assert "No module named 'tools.lattice'" in shadowed.stderr
    own.write_text(blocks[SHADOW_FIX])
    assert imports().returncode == 0


def test_the_pages_code_type_checks_against_the_protocol(blocks: dict[str, str], tmp_path: Path) -> None:
    """mypy --strict on the quick start's files: `TARGET: Target = TinyTarget()` is the protocol's check."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed here (the `lint` extra has it)")
    write_project(tmp_path, blocks)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "tinyapp", "tests"],
        cwd=tmp_path,
        # An editable install of the lattice is invisible to mypy; the repository is where it lives.
        env={**child_pytest_env(), "MYPYPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
