"""The suite's Hypothesis profile must be the one in force wherever it runs, CI runners included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import tests.contract.conftest\n"
    "from hypothesis import HealthCheck, settings\n"
    "print(settings.get_current_profile_name(), "
    "HealthCheck.function_scoped_fixture in settings().suppress_health_check)\n"
)


@pytest.mark.parametrize("ci", [None, "true"], ids=["laptop", "ci-runner"])
def test_contract_profile_is_loaded_with_and_without_ci_variable(ci: str | None) -> None:
    # A regression: with $CI set, Hypothesis' built-in "ci" profile won and every @given test
    # that uses the per-test fixtures failed its function-scoped-fixture health check.
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert probe.returncode == 0, probe.stderr
    name, suppressed = probe.stdout.split()
    assert name.startswith("contract-"), f"active Hypothesis profile is {name!r}"
    assert suppressed == "True"
