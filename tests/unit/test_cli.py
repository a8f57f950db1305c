"""The `retrace` command line: its commands, their help, and what each option parses to.

Pure logic on the parser (`app.cli.build_parser`); running the commands is the live suite's job.
"""

from __future__ import annotations

import re

import pytest

from app import cli


def _help(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        cli.build_parser().parse_args([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_listed_with_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(_help(capsys=capsys).split())  # argparse wraps long help lines
    for command, says in [
        ("migrate", "bring RETRACE_DB_SCHEMA to the latest migration"),
        ("revision", "write a new migration from what the models changed"),
        ("worker", "run a Dramatiq worker on the ingestion queue"),
        ("serve", "migrate, then run the API and a worker together"),
        ("api", "run the API alone (the schema migrated, workers run elsewhere)"),
    ]:
        # The whole text, from the command's name to the next one: a help text with something added
        # around it is a different help text.
        assert re.search(rf"(^| ){command} {re.escape(says)}( \w+ |$| options:)", text), command


@pytest.mark.parametrize(("command", "runs"), [("serve", cli.cmd_serve), ("api", cli.cmd_api)])
def test_serving_commands_take_host_port_log_level_and_access_log(command: str, runs: object) -> None:
    parser = cli.build_parser()
    defaults = parser.parse_args([command])
    assert (defaults.host, defaults.port, defaults.log_level, defaults.access_log) == (
        "127.0.0.1",
        8000,
        "info",
        True,
    )
    assert defaults.run is runs
    given = parser.parse_args(
        [command, "--host", "0.0.0.0", "--port", "9017", "--log-level", "debug", "--no-access-log"]
    )
    assert (given.host, given.port, given.log_level, given.access_log) == ("0.0.0.0", 9017, "debug", False)


@pytest.mark.parametrize("command", ["serve", "api"])
def test_serving_commands_take_each_of_uvicorns_log_levels(command: str) -> None:
    parser = cli.build_parser()
    for level in ("critical", "error", "warning", "info", "debug"):
        assert parser.parse_args([command, "--log-level", level]).log_level == level


@pytest.mark.parametrize(("argv", "runs"), [(["migrate"], "cmd_migrate"), (["worker"], "cmd_worker")])
def test_each_command_runs_its_function(argv: list[str], runs: str) -> None:
    assert cli.build_parser().parse_args(argv).run is getattr(cli, runs)


def test_revision_needs_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = cli.build_parser().parse_args(["revision", "-m", "add a column"])
    assert (parsed.message, parsed.run) == ("add a column", cli.cmd_revision)
    with pytest.raises(SystemExit) as done:
        cli.build_parser().parse_args(["revision"])
    assert done.value.code == 2
    assert "--message" in capsys.readouterr().err


def test_a_bad_port_or_level_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["serve", "--port", "eighty"], ["api", "--log-level", "loud"]):
        with pytest.raises(SystemExit) as done:
            cli.build_parser().parse_args(argv)
        assert done.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_module_runs_as_a_program() -> None:
    """`python -m app.cli` is how the live stack and deployments start the API: it must reach main()."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: retrace")
