"""Starlette's own HTTP errors (a route it cannot find, a method it does not allow, a body too large
for a server in front) become problems with the service's codes, not the status line's words. (405,
which also lists the path's methods, is tests/regression/test_405_allow_and_undecodable_body.py.)"""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app import problems

_SCOPE = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "not_found"),
        (406, "not_acceptable"),
        (411, "length_required"),
        (413, "payload_too_large"),
        (415, "unsupported_media_type"),
        (418, "i'm_a_teapot"),  # any other: the status phrase, lower-cased, words joined by `_`
    ],
)
def test_status_to_code(status: int, code: str) -> None:
    response = asyncio.run(problems._on_http_exception(Request(_SCOPE), HTTPException(status)))
    assert response.status_code == status
    assert json.loads(bytes(response.body))["code"] == code
