"""A tag of 40 characters that lower-cases to more was stored longer than 40 and could not be used.

What broke: the 1..40 length of a tag was checked on the tag as sent, and the tag was lower-cased after.
Some characters lengthen when lower-cased: `"İ"` (U+0130) becomes `"i̇"`, two code points, so `"İ" * 40`
was stored as 80 characters, and `GET /v1/marks?tag=<that>` refused the stored tag as too long (422): a
tag nobody could filter by. Found by black-box probing (issue 13).

What fixed it: the length is checked on the merged, lower-cased tags, the form that is stored
(`app/schemas.py`, `_merge_tags`); docs/api.md says so.

Locked reproduction: `"İ" * 40` is refused with a 422 naming `tags`, `"İ" * 20` (40 once lower-cased) is
stored and works as a filter. Checked: on the code before the fix the first answers 201 (this case fails).
"""

from __future__ import annotations

import httpx

from tests.integration.flows import assert_validation_problem
from tools.lattice.seam.accounts import SignedInUser


def test_the_stored_form_of_a_tag_is_what_must_fit(api: httpx.Client, user: SignedInUser) -> None:
    too_long = api.post("/v1/marks", json={"note": "n", "tags": ["İ" * 40]}, headers=user.headers)
    assert_validation_problem(too_long, "tags")

    fits = api.post("/v1/marks", json={"note": "n", "tags": ["İ" * 20]}, headers=user.headers)
    assert fits.status_code == 201, fits.text
    stored = fits.json()["tags"][0]
    assert len(stored) == 40
    found = api.get("/v1/marks", params={"tag": stored}, headers=user.headers)
    assert found.status_code == 200, found.text
    assert [m["id"] for m in found.json()["items"]] == [fits.json()["id"]]
