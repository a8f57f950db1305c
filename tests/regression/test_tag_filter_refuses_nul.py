"""A NUL in the tag filter of the marks list answered 500.

What broke: `GET /v1/marks?tag=<text holding U+0000>` passed validation (only length bounds) and reached
PostgreSQL, which cannot hold NUL in text: psycopg.DataError, an unhandled 500 — the bug d6a7989 fixed for
request bodies, still open on this query parameter.

How it showed: a contract probe sending NUL in every text input of the document; bodies got 422, the tag
filter a 500 (DataError traceback).

What fixed it: the `tag` query parameter carries the pattern `^[^\\x00]*$`, so FastAPI refuses it with a
422 problem and the OpenAPI document states the rule — commit fefc7e6.

Locked reproduction: one list request with `tag=a%00b`. Checked: with fefc7e6 reverted in a scratch copy
this case fails (DataError re-raised by the in-process client where a live port answers 500); with it, it
passes.
"""

from __future__ import annotations

import httpx

from tests.integration.flows import assert_validation_problem
from tools.lattice.seam.accounts import SignedInUser


def test_nul_in_the_tag_filter_is_a_validation_problem(api: httpx.Client, user: SignedInUser) -> None:
    response = api.get("/v1/marks", params={"tag": "a\x00b"}, headers=user.headers)
    assert_validation_problem(response, "tag")
    assert api.get("/v1/marks", params={"tag": "ab"}, headers=user.headers).status_code == 200
