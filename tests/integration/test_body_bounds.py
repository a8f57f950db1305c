"""The JSON body bound (app/bodylimit.py) in the app itself: where it applies, where not, and its edge.

A body FastAPI parses is refused past `RETRACE_MAX_JSON_BODY_BYTES` whether it declares its length or
arrives chunked, a body of exactly the bound is taken, and the attachment upload (raw bytes, its own bound
`RETRACE_MAX_UPLOAD_BYTES`) is not held to the JSON bound. Over a real port: tests/regression/
test_json_bodies_are_bounded.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.integration.flows import assert_problem, create_mark, upload
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

JSON = {"Content-Type": "application/json"}


def _padded(note: str, size: int) -> bytes:
    """A mark body of exactly `size` bytes (JSON allows the whitespace)."""
    body = f'{{"note": "{note}"'.encode()
    return body + b" " * (size - len(body) - 1) + b"}"


def test_a_body_of_exactly_the_bound_is_taken(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    limit = lattice.plane.settings().max_json_body_bytes
    answer = api.post("/v1/marks", content=_padded("at the bound", limit), headers={**user.headers, **JSON})
    assert answer.status_code == 201, answer.text


def test_a_chunked_body_past_the_bound_is_refused(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    limit = lattice.plane.settings().max_json_body_bytes

    def chunks() -> Iterator[bytes]:
        body = _padded("past the bound", limit + 1)
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    answer = api.post("/v1/marks", content=chunks(), headers={**user.headers, **JSON})
    assert_problem(answer, 413, "payload_too_large")
    assert answer.headers["connection"] == "close"


def test_the_bound_comes_before_credentials(api: httpx.Client, lattice: WorkerLattice) -> None:
    limit = lattice.plane.settings().max_json_body_bytes
    answer = api.post("/v1/marks", content=_padded("anonymous", limit + 1), headers=JSON)
    assert_problem(answer, 413, "payload_too_large")


def test_an_attachment_is_not_held_to_the_json_bound(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    settings = lattice.plane.settings()
    assert settings.max_upload_bytes > settings.max_json_body_bytes
    mark = create_mark(api, user.headers, note="big attachment")
    stored = upload(api, user.headers, mark["id"], b"a" * (settings.max_json_body_bytes + 1))
    assert stored["size"] == settings.max_json_body_bytes + 1
