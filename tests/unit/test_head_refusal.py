"""The 431 that app/server.py writes itself, as raw bytes, before the app sees the request: the one problem
body not built by app/problems.py, so checked here against the same Problem model and pinned by a
snapshot (`__snapshots__/test_head_refusal.ambr`) like every other shape in
tests/integration/test_problem_bodies.py."""

from __future__ import annotations

import json

from syrupy.assertion import SnapshotAssertion

from app.problems import PROBLEM_MEDIA_TYPE, ProblemBody
from app.server import _refusal
from app.settings import Settings


def test_431_is_a_problem_like_every_other(snapshot: SnapshotAssertion) -> None:
    limit = Settings.model_fields["max_header_bytes"].default
    head, _, body = _refusal(limit).partition(b"\r\n\r\n")
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
