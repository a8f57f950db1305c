"""Revoking an API token while `PATCH /v1/me` used it deadlocked in PostgreSQL and answered 503.

What broke: the write held its token `FOR SHARE` and the account `FOR KEY SHARE` until commit (so a
revocation waits for it, issue 26 defect 6), then updated the account row; `DELETE /v1/tokens/{id}` held
the account too (to answer 401 when its deletion won) and then updated the token. With a few such writes
in flight, the update of the account row waited for the revocation's transaction while the revocation
waited for the write's share lock on the token: "deadlock detected", and one of them answered 503
`service_busy`. Found by the race suite's toctou sweep (tests/race/test_sweep_toctou.py), one route over
from the defects it was built for.

What fixed it: the revocation holds nothing of the account; its one conditional UPDATE decides, and only
when it finds no token does it look at the account (401 when it went, else 404) —
`app/routes/tokens.py`.

Locked reproduction: rounds of three `PATCH /v1/me` with an API token and the revocation of that token
(through the session token) fired at once on the real stack's pool: no answer may be a 5xx; each PATCH
is 200 (it committed before the revocation) or 401 (it found the token revoked), the revocation 204.
Checked: on the code before the fix, 503s within 15 rounds (this case fails); with the fix none.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.integration.flows import unique_email
from tools.lattice.seam.accounts import Mailbox, sign_in

ROUNDS = 15
WRITERS = 3


def test_patch_me_racing_the_revocation_of_its_token_is_never_a_5xx(
    api: httpx.Client, mailbox: Mailbox
) -> None:
    person = sign_in(api, mailbox, unique_email("revoked-mid-patch"), with_api_token=False)
    answers: list[tuple[str, int]] = []
    with ThreadPoolExecutor(WRITERS + 1) as pool:
        for round_ in range(ROUNDS):
            minted = api.post("/v1/tokens", json={"name": f"r{round_}"}, headers=person.headers)
            assert minted.status_code == 201, minted.text
            token = minted.json()
            bearer = {"Authorization": f"Bearer {token['token']}"}
            patches = [
                pool.submit(api.patch, "/v1/me", json={"display_name": f"w{i}"}, headers=bearer)
                for i in range(WRITERS)
            ]
            revoke = pool.submit(api.delete, f"/v1/tokens/{token['id']}", headers=person.headers)
            answers += [("PATCH", p.result().status_code) for p in patches]
            answers.append(("DELETE token", revoke.result().status_code))
    wrong = [
        (what, status) for what, status in answers if status not in {"PATCH": {200, 401}}.get(what, {204})
    ]
    assert not wrong, f"answers other than 200/401 (PATCH) and 204 (revocation): {wrong}"
