"""`retrace`'s commands insist on the URLs they use, each missing one named, in one line, before any work.

In-process (`app.cli._settings` on this process's environment): what the live stack's processes run
at start-up, provable without starting one.
"""

from __future__ import annotations

import pytest

from app import cli

DB = "postgresql://someone@127.0.0.1:5432/retrace"
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def _no_retrace_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("RETRACE_"):
            monkeypatch.delenv(name)


def _refusal(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *, redis: bool = True) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as done:
        cli._settings(redis=redis)
    assert isinstance(done.value.code, str)  # a message, printed on stderr with exit status 1
    return done.value.code


def test_both_missing_urls_are_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _refusal(monkeypatch, {}) == (
        "retrace: set RETRACE_DATABASE_URL and RETRACE_REDIS_URL "
        "(or run `nox -s serve`, which starts PostgreSQL and Redis for you)"
    )


def test_a_missing_redis_url_is_named_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal(monkeypatch, {"RETRACE_DATABASE_URL": DB})
    assert message.startswith("retrace: set RETRACE_REDIS_URL (or run")


def test_a_missing_database_url_is_named_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal(monkeypatch, {"RETRACE_REDIS_URL": REDIS})
    assert message.startswith("retrace: set RETRACE_DATABASE_URL (or run")


def test_migrating_needs_only_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _refusal(monkeypatch, {}, redis=False).startswith("retrace: set RETRACE_DATABASE_URL (or run")
    monkeypatch.setenv("RETRACE_DATABASE_URL", DB)
    settings = cli._settings(redis=False)
    assert (settings.database_url, settings.redis_url) == (DB, None)


def test_with_both_urls_the_settings_are_the_environment_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRACE_DATABASE_URL", DB)
    monkeypatch.setenv("RETRACE_REDIS_URL", REDIS)
    settings = cli._settings()
    assert (settings.database_url, settings.redis_url) == (DB, REDIS)


def test_a_bad_value_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal(
        monkeypatch,
        {"RETRACE_DATABASE_URL": DB, "RETRACE_REDIS_URL": REDIS, "RETRACE_MAX_UPLOAD_BYTES": "0"},
    )
    assert message.startswith("retrace: RETRACE_MAX_UPLOAD_BYTES: ")
    assert "\n" not in message


def test_an_unreachable_database_is_one_line_with_the_driver_s_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`retrace migrate` against a port nobody listens on: the driver's first line, not a traceback."""
    import argparse

    monkeypatch.setenv("RETRACE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(SystemExit) as done:
        cli.cmd_migrate(argparse.Namespace())
    message = str(done.value.code)
    assert message.startswith("retrace: cannot reach the database at RETRACE_DATABASE_URL: ")
    reason = message.removeprefix("retrace: cannot reach the database at RETRACE_DATABASE_URL: ")
    assert "127.0.0.1" in reason
    assert "port 1 failed" in reason
    assert "\n" not in message
    assert "sqlalchemy" not in message.lower()  # the driver's words, without SQLAlchemy's wrapping
