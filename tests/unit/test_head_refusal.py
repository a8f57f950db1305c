"""The refusals app/server.py writes itself, as raw bytes, before the app sees the request (431, 414, 408,
400 for a malformed chunk): the problem bodies not built by app/problems.py, so checked here against the
same Problem model, and the 431 pinned by a snapshot (`__snapshots__/test_head_refusal.ambr`) like every
other shape in tests/integration/test_problem_bodies.py."""

from __future__ import annotations

import json

import pytest
from syrupy.assertion import SnapshotAssertion

from app.httpframing import Refusal
from app.problems import PROBLEM_MEDIA_TYPE, ProblemBody
from app.server import raw_problem
from app.settings import Settings


def test_431_is_a_problem_like_every_other(snapshot: SnapshotAssertion) -> None:
    limit = Settings.model_fields["max_header_bytes"].default
    refusal = Refusal(431, "header_too_large", f"the request line and headers exceed {limit} bytes")
    head, _, body = raw_problem(refusal).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("ascii").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    problem = json.loads(body)
    assert status_line == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(headers["content-length"]) == len(body)
    assert ProblemBody.model_validate(problem).model_dump(exclude_none=True) == problem
    assert problem["status"] == 431
    # problem_response's convention for every other problem: the type URI ends in the code, dashed.
    assert problem["type"] == f"https://retrace.example/problems/{problem['code'].replace('_', '-')}"
    assert {"status_line": status_line, "headers": headers, "body": problem} == snapshot


@pytest.mark.parametrize(
    "refusal",
    [
        Refusal(414, "uri_too_long", "the request line exceeds 8192 bytes"),
        Refusal(431, "too_many_headers", "more than 100 header lines"),
        Refusal(408, "request_timeout", "the request head did not arrive within 10 s"),
        Refusal(400, "malformed_chunk", "a chunk of the body is not framed as HTTP/1.1 requires"),
    ],
    ids=lambda refusal: refusal.code,
)
def test_every_refusal_is_a_problem(refusal: Refusal) -> None:
    head, _, body = raw_problem(refusal).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("ascii").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    problem = json.loads(body)
    assert status_line.startswith(f"HTTP/1.1 {refusal.status} ")
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    assert ProblemBody.model_validate(problem).model_dump(exclude_none=True) == problem
    assert (problem["status"], problem["code"]) == (refusal.status, refusal.code)
    assert problem["detail"] == refusal.detail
