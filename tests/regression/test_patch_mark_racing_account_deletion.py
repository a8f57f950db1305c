"""`PATCH /v1/marks/{id}` racing `DELETE /v1/me` answered 404 for a write that had happened.

What broke: the PATCH held its credential and account until it committed (issue 26 defect 9), then read
the mark again to build its answer, in a new transaction. The account's deletion, waiting for that
commit, could land in between: the mark had gone with the account and the write that happened answered
404 `not_found` — neither its outcome (200) nor the documented answer to a lost account (401). Found by
the race suite's toctou sweep (tests/race/test_sweep_toctou.py).

What fixed it: the answer is read inside the transaction that wrote it (`app/routes/marks.py`,
`update_mark`), while the mark and the account are still held.

Locked reproduction: rounds of a PATCH of a mark fired at once with `DELETE /v1/me` of its owner: the
PATCH answers 200 (it committed first) or 401 (the account went first), never 404 or a 5xx; the
deletion 204. Checked: on the code before the fix a 404 within the rounds (this case fails); with the
fix none.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.integration.flows import create_mark, unique_email
from tools.lattice.seam.accounts import Mailbox, sign_in

ROUNDS = 20


def test_a_patch_racing_its_accounts_deletion_is_200_or_401(api: httpx.Client, mailbox: Mailbox) -> None:
    answers: list[tuple[int, int]] = []
    with ThreadPoolExecutor(2) as pool:
        for round_ in range(ROUNDS):
            person = sign_in(api, mailbox, unique_email(f"patch-vs-delete-{round_}"))
            mark = create_mark(api, person.headers, note="racing its owner")
            patch = pool.submit(
                api.patch, f"/v1/marks/{mark['id']}", json={"note": "late"}, headers=person.headers
            )
            delete = pool.submit(api.delete, "/v1/me", headers=person.headers)
            answers.append((patch.result().status_code, delete.result().status_code))
    wrong = [pair for pair in answers if pair[0] not in {200, 401} or pair[1] != 204]
    assert not wrong, f"(PATCH, DELETE /v1/me) answers other than (200 or 401, 204): {wrong}"
