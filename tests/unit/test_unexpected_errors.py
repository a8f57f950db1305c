"""An unexpected error is logged with its traceback on the `retrace.problems` logger and answered with
the 500 problem; a client that went away mid-body gets a bare 400 and only an INFO line."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from starlette.requests import Request

from app import problems

_SCOPE = {
    "type": "http",
    "method": "PUT",
    "path": "/v1/marks/x/attachment",
    "headers": [],
    "query_string": b"",
}


def test_an_unexpected_error_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.ERROR, logger="retrace.problems"):
        response = asyncio.run(problems._on_unexpected(Request(_SCOPE), error))
    assert response.status_code == 500
    assert json.loads(bytes(response.body))["code"] == "internal_error"
    [record] = [r for r in caplog.records if r.name == "retrace.problems"]
    assert record.getMessage() == "unhandled error"
    assert record.exc_info is not None
    assert record.exc_info[1] is error


def test_a_client_gone_mid_body_is_a_bare_400_logged_as_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="retrace.problems"):
        response = asyncio.run(problems._on_client_disconnect(Request(_SCOPE), Exception()))
    assert response.status_code == 400
    assert response.body == b""
    [record] = [r for r in caplog.records if r.name == "retrace.problems"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "client disconnected during PUT /v1/marks/x/attachment"
