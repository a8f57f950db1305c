"""Foreign mode's pure parts: the config file and its one-line errors, dotenv reading, the suite's
database variables. (The whole mode is proven by `nox -s foreign` on FastAPI's full-stack template.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lattice.foreign.__main__ import outcomes
from tools.lattice.foreign.config import DbEnv, ForeignConfigError, load_config, read_dotenv
from tools.lattice.foreign.plugin import _database_env

TEMPLATE_CONFIG = Path(__file__).parents[1] / "foreign" / "fastapi-template.toml"


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "suite").mkdir(exist_ok=True)
    path = tmp_path / "lattice.toml"
    path.write_text(text)
    return path


def test_the_templates_config_loads_with_paths_made_absolute(tmp_path: Path) -> None:
    # The committed file as written, its rootdir pointed at a stand-in (a clone of this repository
    # alone has no ../shared beside it).
    text = TEMPLATE_CONFIG.read_text()
    rootdir_line = next(line for line in text.splitlines() if line.startswith("rootdir"))
    config = load_config(_write(tmp_path, text.replace(rootdir_line, 'rootdir = "suite"')))
    assert config.rootdir == (tmp_path / "suite").resolve()
    assert config.isolation == "database"
    assert config.migrate == "alembic upgrade head"
    assert config.db_env.name == "POSTGRES_DB"
    assert config.path(config.dotenv or "") == tmp_path / ".env"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rootdir = "suite"\n', "`db_env`: Field required"),
        ('rootdir = "suite"\nisolation = "clone"\n[db_env]\nname = "DB"\n', "`isolation`: Input should be"),
        ('rootdir = "suite"\nmigrate = 3\n[db_env]\nname = "DB"\n', "`migrate`: Input should be a valid str"),
        ('rootdir = "suite"\nextra_key = 1\n[db_env]\nname = "DB"\n', "`extra_key`: Extra inputs"),
        ('rootdir = "suite"\n[db_env]\nhost = "H"\n', "`db_env`: Value error, give `url`"),
        ('rootdir = "nowhere"\n[db_env]\nname = "DB"\n', "`rootdir`: "),
        ("rootdir = \n", "is not valid TOML"),
    ],
)
def test_a_mistake_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ForeignConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_dotenv_values_lose_quotes_comments_and_export(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# c\nA=1\nB=\"two words\"\nexport C='x'\n\nEMPTY=\nnot a pair\n")
    assert read_dotenv(dotenv) == {"A": "1", "B": "two words", "C": "x", "EMPTY": ""}


def test_database_variables_by_part_or_as_one_url() -> None:
    url = "postgresql://post%40gres:s%3Acret@127.0.0.1:6543/lattice_ab_gw1"
    parts = DbEnv(host="H", port="P", user="U", password="W", name="N")
    assert _database_env(parts, url) == {
        "H": "127.0.0.1",
        "P": "6543",
        "U": "post@gres",
        "W": "s:cret",
        "N": "lattice_ab_gw1",
    }
    assert _database_env(DbEnv(url="DATABASE_URL"), url.replace("postgresql", "postgresql+psycopg")) == {
        "DATABASE_URL": url
    }


def test_the_summary_line_is_read_back() -> None:
    output = "....\n============ 58 passed, 2 failed, 63 warnings in 25.54s ============\n"
    assert outcomes(output) == {"passed": 58, "failed": 2}
