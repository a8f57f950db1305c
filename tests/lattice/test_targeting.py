"""The seam's loader: `[tool.lattice] target` names the app's Target; every mistake is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lattice.seam.targeting import TargetError, load_target
from tools.retrace_target import TARGET


def _pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    return path


def test_the_project_names_retrace_as_its_target() -> None:
    assert load_target() is TARGET


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[tool.other]\n", "set [tool.lattice] target"),
        ('[tool.lattice]\ntarget = "no_colon"\n', 'is not "package.module:NAME"'),
        ("[tool.lattice]\ntarget = 3\n", 'is not "package.module:NAME"'),
        ('[tool.lattice]\ntarget = "tools.no_such_module:T"\n', "cannot import tools.no_such_module"),
        ('[tool.lattice]\ntarget = "tools.retrace_target:NOPE"\n', "tools.retrace_target has no NOPE"),
        ("[tool.lattice\n", "cannot read"),
    ],
)
def test_a_bad_target_setting_is_one_line_naming_it(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(TargetError) as raised:
        load_target(_pyproject(tmp_path, body))
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
