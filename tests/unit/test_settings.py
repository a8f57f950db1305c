"""Every bound of the service's settings, as a table: the value at the bound is taken, one past it is
refused with a message naming the setting, and each default is what docs and operators rely on.

Pure logic: Settings(...) is built from keyword arguments, no environment and no service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.settings import Settings, SettingsError, load_settings

# (setting, lowest accepted, first refused below it); `None` where only the lower bound exists
BOUNDS: dict[str, tuple[Any, Any]] = {
    "max_upload_bytes": (1, 0),
    "max_header_bytes": (1024, 1023),
    "max_request_line_bytes": (256, 255),
    "max_header_field_bytes": (256, 255),
    "max_header_count": (1, 0),
    "max_json_body_bytes": (1024, 1023),
    "head_timeout_s": (0.001, 0),
    "body_idle_timeout_s": (0.001, 0),
    "send_timeout_s": (0.001, 0),
    "session_ttl_seconds": (1, 0),
    "ingest_max_attempts": (1, 0),
    "ingest_min_backoff_ms": (0, -1),
    "ingest_max_backoff_ms": (0, -1),
    "worker_threads": (1, 0),
    "worker_prefetch": (1, 0),
    "db_statement_timeout_ms": (0, -1),
    "db_connect_timeout_s": (1, 0),
    "db_pool_size": (1, 0),
    "db_pool_timeout_s": (0.001, 0),
    "redis_timeout_s": (0.001, 0),
    "requeue_interval_s": (0.001, 0),
    "requeue_after_s": (0.001, 0),
    "broker_heartbeat_timeout_ms": (1, 0),
    "broker_maintenance_chance": (0, -1),
}

DEFAULTS: dict[str, Any] = {
    "mailer": "maildir:.retrace/mail",
    "blob_dir": Path(".retrace/blobs"),
    "max_upload_bytes": 10 * 1024 * 1024,
    "max_header_bytes": 64 * 1024,
    "max_request_line_bytes": 8 * 1024,
    "max_header_field_bytes": 16 * 1024,
    "max_header_count": 100,
    "max_json_body_bytes": 1024 * 1024,
    "head_timeout_s": 10.0,
    "body_idle_timeout_s": 30.0,
    "send_timeout_s": 30.0,
    "session_ttl_seconds": 24 * 3600,
    "queue_suffix": "",
    "redis_namespace": "retrace",
    "db_schema": "public",
    "ingest_max_attempts": 3,
    "ingest_min_backoff_ms": 1000,
    "ingest_max_backoff_ms": 30_000,
    "worker_threads": 4,
    "worker_prefetch": 64,
    "db_statement_timeout_ms": 5000,
    "db_connect_timeout_s": 3,
    "db_pool_size": 10,
    "db_pool_timeout_s": 30.0,
    "redis_timeout_s": 3.0,
    "requeue_interval_s": 2.0,
    "requeue_after_s": 600.0,
    "broker_heartbeat_timeout_ms": 60_000,
    "broker_maintenance_chance": 1000,
}


@pytest.fixture(autouse=True)
def _no_retrace_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read RETRACE_* from the environment: these tests are about the code's own values."""
    import os

    for name in [n for n in os.environ if n.startswith("RETRACE_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("name", "bound"), BOUNDS.items(), ids=list(BOUNDS))
def test_each_lower_bound_is_exact(name: str, bound: tuple[Any, Any]) -> None:
    accepted, refused = bound
    assert getattr(Settings(**{name: accepted}), name) == accepted
    with pytest.raises(ValidationError) as caught:
        Settings(**{name: refused})
    assert caught.value.errors()[0]["loc"] == (name,)


def test_the_maintenance_chance_is_at_most_one_in_one() -> None:
    assert Settings(broker_maintenance_chance=1_000_000).broker_maintenance_chance == 1_000_000
    with pytest.raises(ValidationError):
        Settings(broker_maintenance_chance=1_000_001)


@pytest.mark.parametrize(("name", "value"), DEFAULTS.items(), ids=list(DEFAULTS))
def test_defaults(name: str, value: Any) -> None:
    assert getattr(Settings(), name) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("queue_suffix", "__w 3"),
        ("redis_namespace", ""),
        ("redis_namespace", "a b"),
        ("db_schema", "Public"),
        ("db_schema", 'x"; drop'),
    ],
)
def test_names_that_reach_redis_or_sql_are_plain(name: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Settings(**{name: value})


def test_every_setting_is_described_for_operators() -> None:
    """The ones a deployment must set say what they expect (they show up in `retrace` errors and docs)."""
    fields = Settings.model_fields
    for name in ("database_url", "redis_url", "mailer", "blob_dir"):
        assert fields[name].description, name
    assert "smtp://" in (fields["mailer"].description or "")


def test_the_environment_is_read_under_the_retrace_prefix_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRACE_MAX_UPLOAD_BYTES", "4096")
    monkeypatch.setenv("WORKER_THREADS", "7")  # unprefixed: somebody else's variable
    settings = load_settings()
    assert settings.max_upload_bytes == 4096
    assert settings.worker_threads == Settings.model_fields["worker_threads"].default


def test_a_bad_environment_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRACE_MAX_UPLOAD_BYTES", "0")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith("retrace: RETRACE_MAX_UPLOAD_BYTES: ")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql", "postgres"])
def test_each_postgres_scheme_is_spoken_through_psycopg(scheme: str) -> None:
    settings = Settings(database_url=f"{scheme}://u:p@db.example:5433/retrace")
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db.example:5433/retrace"


def test_another_scheme_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"must be a postgresql:// URL, got mysql://"):
        _ = Settings(database_url="mysql://u@db.example/retrace").sqlalchemy_url
