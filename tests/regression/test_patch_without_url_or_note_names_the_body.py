"""The 422 for a PATCH that leaves a mark with neither url nor note had no `errors`.

What broke: the rule "a mark needs a url, a note, or both" can only be checked against the stored mark,
so `PATCH /v1/marks/{id}` raised its 422 by hand, without the `errors` list that every other validation
problem carries (api.md: validation errors have `errors: [{loc, msg, type}]`). A client that shows the
failing field had nothing to show. Found by black-box probing (issue 13).

What fixed it: that problem carries one error at `["body"]`, type `url_or_note_required`
(`app/routes/marks.py`).

Locked reproduction: a mark with a note only, patched with `{"note": null}`. Checked: on the code before the
fix the body has no `errors` (this case fails).
"""

from __future__ import annotations

import httpx

from tests.integration.flows import assert_validation_problem, create_mark
from tools.lattice.seam.accounts import SignedInUser


def test_the_url_or_note_rule_names_the_body(api: httpx.Client, user: SignedInUser) -> None:
    mark = create_mark(api, user.headers, note="only a note")
    response = api.patch(f"/v1/marks/{mark['id']}", json={"note": None}, headers=user.headers)
    body = assert_validation_problem(response, "body")
    assert body["errors"] == [
        {"loc": ["body"], "msg": "a mark needs a url, a note, or both", "type": "url_or_note_required"}
    ]
    assert api.get(f"/v1/marks/{mark['id']}", headers=user.headers).json()["note"] == "only a note"
