"""A NUL character in a text field turned a bad request into a 500.

What broke: PostgreSQL `text` cannot hold U+0000. A note, title, tag, display name or token name holding
it passed validation and failed at INSERT/UPDATE with psycopg.DataError.

How it showed: `POST /v1/marks {"note": "a\\u0000b"}` answered 500 `internal_error` (a 5xx is always a bug
per api.md); found while choosing the alphabet of the stateful suite's generated notes.

What fixed it: app/schemas.py puts an AfterValidator refusing U+0000 on those string types, so the request
gets 422 `validation_failed`; JSON schema and OpenAPI document unchanged — commit d6a7989.

Locked reproduction: one request per field that reaches a text column, each with a NUL in the middle.
Checked: with d6a7989 reverted in a scratch copy this case fails (DataError re-raised by the in-process
client where a live port answers 500); with it, it passes.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.flows import assert_validation_problem
from tools.lattice.seam.accounts import SignedInUser

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/marks", {"note": NUL}, "note"),
        ("POST", "/v1/marks", {"note": "ok", "title": NUL}, "title"),
        ("POST", "/v1/marks", {"note": "ok", "tags": ["fine", NUL]}, "tags"),
        ("PATCH", "/v1/me", {"display_name": NUL}, "display_name"),
        ("POST", "/v1/tokens", {"name": NUL}, "name"),
    ],
)
def test_nul_is_a_validation_problem(
    api: httpx.Client, user: SignedInUser, method: str, path: str, body: dict[str, object], field: str
) -> None:
    response = api.request(method, path, json=body, headers=user.headers)
    assert_validation_problem(response, field)


def test_nul_in_a_patched_note_is_a_validation_problem(api: httpx.Client, user: SignedInUser) -> None:
    created = api.post("/v1/marks", json={"note": "clean"}, headers=user.headers)
    assert created.status_code == 201, created.text
    response = api.patch(f"/v1/marks/{created.json()['id']}", json={"note": NUL}, headers=user.headers)
    assert_validation_problem(response, "note")
    again = api.get(f"/v1/marks/{created.json()['id']}", headers=user.headers)
    assert again.json()["note"] == "clean"
