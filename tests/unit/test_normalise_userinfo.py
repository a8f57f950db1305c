"""The normalised URL keeps what comes before the host (`user:password@`) exactly as given."""

from __future__ import annotations

import pytest

from app.ingestion.normalise import normalize_url


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        pytest.param(
            "https://User:Pw@Example.ORG/a", "https://User:Pw@example.org/a", id="user-and-password"
        ),
        pytest.param("http://me@Host.test:80/", "http://me@host.test/", id="user-default-port"),
        pytest.param("http://a@b@Host.test/", "http://a@b@host.test/", id="at-sign-in-userinfo"),
    ],
)
def test_userinfo_is_kept(url: str, normalised: str) -> None:
    assert normalize_url(url) == normalised
