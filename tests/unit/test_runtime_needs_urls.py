"""Building the service's parts without its two URLs is one message naming both settings."""

from __future__ import annotations

import pytest

from app.runtime import build_runtime
from app.settings import Settings


def test_both_missing_urls_are_named_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^set RETRACE_") as raised:
        build_runtime(Settings(database_url=None, redis_url=None))
    assert str(raised.value) == "set RETRACE_DATABASE_URL and RETRACE_REDIS_URL (or run `nox -s serve`)"


def test_one_missing_url_is_named_alone() -> None:
    with pytest.raises(ValueError, match=r"^set RETRACE_") as raised:
        build_runtime(Settings(database_url="postgresql://x@127.0.0.1:1/x", redis_url=None))
    assert str(raised.value) == "set RETRACE_REDIS_URL (or run `nox -s serve`)"
