"""A 405 named only one route's methods, and a body that is not UTF-8 got an undocumented 400.

What broke: (1) GET and POST /v1/marks (likewise GET/PATCH/DELETE /v1/marks/{id}, /v1/me, ...) are
separate routes, and Starlette answers a wrong method with the `Allow` header of the first route that
matched the path only: `OPTIONS /v1/marks` -> 405 `Allow: POST`, hiding GET. (2) A JSON body that is not
valid UTF-8 (e.g. b'\\x80') makes FastAPI raise HTTPException(400, 'There was an error parsing the body');
no operation documents 400, and api.md documents bad input as 422.

How it showed: schemathesis 4.32 (`--checks all`, nox -s peer) reported ST205 'Allow: POST does not match
the schema. Missing documented methods: GET' on 5 paths and ST103 'Undocumented status code 400' on
POST /v1/auth/otp, /v1/auth/otp/verify and /v1/tokens.

What fixed it: app/problems.py — the 405 handler lists every method the app's OpenAPI document gives the
path; a framework 400 becomes a 422 `validation_failed` problem — commit 089c63d.

Locked reproduction: OPTIONS on two shared paths, and b'\\x80' as a JSON body on the three operations.
Checked: with 089c63d reverted in a scratch copy this case fails; with it, it passes.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.flows import assert_problem
from tools.lattice.seam.accounts import SignedInUser


@pytest.mark.parametrize(
    ("path", "methods"), [("/v1/marks", {"GET", "POST"}), ("/v1/me", {"GET", "PATCH", "DELETE"})]
)
def test_405_allow_names_every_documented_method(
    api: httpx.Client, user: SignedInUser, path: str, methods: set[str]
) -> None:
    response = api.request("OPTIONS", path, headers=user.headers)
    assert response.status_code == 405, response.text
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert methods <= allowed, response.headers["allow"]


@pytest.mark.parametrize("path", ["/v1/auth/otp", "/v1/auth/otp/verify", "/v1/tokens"])
def test_undecodable_json_body_is_a_validation_problem(
    api: httpx.Client, user: SignedInUser, path: str
) -> None:
    headers = {**user.headers, "Content-Type": "application/json"}
    response = api.post(path, content=b"\x80", headers=headers)
    assert_problem(response, 422, "validation_failed")
