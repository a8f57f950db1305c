"""/docs and /redoc work with no network: every asset they reference is served by the app itself."""

from __future__ import annotations

import re

import httpx
import pytest

# src="...", href="...", and the url strings the pages hand to Swagger UI / ReDoc.
REFERENCES = re.compile(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""")


def _references(html: str) -> list[str]:
    return REFERENCES.findall(html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_references_no_external_host(api: httpx.Client, page: str) -> None:
    response = api.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = _references(response.text)
    assert references, f"{page} references nothing: the pattern no longer matches the page"
    external = [r for r in references if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", r, re.IGNORECASE)]
    assert external == [], f"{page} loads from other hosts: {external}"
    assert "fonts.googleapis" not in response.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_assets_load(api: httpx.Client, page: str) -> None:
    for reference in _references(api.get(page).text):
        asset = api.get(reference)
        assert asset.status_code == 200, f"{page}: {reference} answered {asset.status_code}"
        assert asset.content, f"{page}: {reference} is empty"


def test_the_oauth2_redirect_page_the_docs_name_is_served(api: httpx.Client) -> None:
    assert "/docs/oauth2-redirect" in api.get("/docs").text
    response = api.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swaggerUIRedirectOauth2" in response.text  # Swagger UI's hand-back to the page that opened it
    assert not [r for r in _references(response.text) if "//" in r]
