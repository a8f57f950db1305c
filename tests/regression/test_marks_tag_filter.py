"""Filtering marks by tag answered 500.

What broke: `Mark.tags` is declared with the generic `sqlalchemy.ARRAY`, and the list route called
`.contains([tag])` on it; the generic type does not implement `contains()` and SQLAlchemy raised
NotImplementedError ('ARRAY.contains() not implemented for the base ARRAY type') while building the query.

How it showed: every `GET /v1/marks?tag=<x>` answered 500 `internal_error`; found by
tests/integration/test_marks.py::test_filter_by_tag_is_case_insensitive.

What fixed it: the filter coerces the column to PostgreSQL's `ARRAY(Text)` (`type_coerce`), so it renders
`tags @> ARRAY[...]`, served by the GIN index ix_marks_tags; model and migrations untouched — commit
fde1360.

Locked reproduction: three marks with different tags, then a tag filter in another case than stored.
Checked: with fde1360 reverted in a scratch copy this case fails (NotImplementedError, re-raised by the
in-process client where a live port answers 500); with it, it passes.
"""

from __future__ import annotations

import httpx

from tools.lattice.seam.accounts import SignedInUser


def test_tag_filter_returns_the_tagged_marks(api: httpx.Client, user: SignedInUser) -> None:
    created = {}
    for note, tags in (("first", ["Read", "later"]), ("second", ["later"]), ("third", [])):
        response = api.post("/v1/marks", json={"note": note, "tags": tags}, headers=user.headers)
        assert response.status_code == 201, response.text
        created[note] = response.json()["id"]

    response = api.get("/v1/marks", params={"tag": "READ"}, headers=user.headers)
    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["items"]] == [created["first"]]

    response = api.get("/v1/marks", params={"tag": "later"}, headers=user.headers)
    assert response.status_code == 200, response.text
    assert {m["id"] for m in response.json()["items"]} == {created["first"], created["second"]}
