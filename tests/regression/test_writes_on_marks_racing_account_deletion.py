"""Writes on a mark racing `DELETE /v1/me` answered 404 instead of the documented 401.

What broke: `PATCH`/`DELETE /v1/marks/{id}`, `DELETE .../attachment` and `DELETE /v1/tokens/{id}`
authenticated (the account was there), then looked for their object; when the account's deletion
committed in between, the object had gone with the account (ON DELETE CASCADE) and the write answered
404 `not_found`, where docs/api.md promises 401 for a write that loses the race with its account's
deletion. Found by a grey-box probe (issue 26, defect 9).

What fixed it: every write through the request's session holds its credential and its account until it
commits (`app/deps.py` `get_current_user`, `app/auth/tokens.py` `hold_credential`: the token `FOR SHARE`,
the user `FOR KEY SHARE`), and the upload does the same in each of its transactions. The deletion takes
the user `FOR UPDATE`: it waits for the write, or the write, waiting for it, finds the account gone (401).

Locked reproduction: the test deletes the user in a transaction it leaves open (the cascade has locked
the marks, attachments and tokens), fires the write, waits until PostgreSQL reports it blocked behind
that transaction, commits. Checked: on the code before the fix PATCH mark, DELETE mark, DELETE
attachment and DELETE token answer 404 (this case fails); with the fix all answer 401. (The upload's
case answered 401 before the fix too, since its last transaction already held the account: it is here
so the class stays covered.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from tests.integration.flows import assert_problem, create_mark, unique_email
from tools.lattice.engines.race.blocking import backend_pid, wait_until_blocked
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, sign_in

Write = Callable[[httpx.Client, dict[str, str], str, str], httpx.Response]
WRITES: dict[str, Write] = {
    "PATCH mark": lambda c, h, mark, _t: c.patch(f"/v1/marks/{mark}", json={"title": "late"}, headers=h),
    "DELETE mark": lambda c, h, mark, _t: c.delete(f"/v1/marks/{mark}", headers=h),
    "DELETE attachment": lambda c, h, mark, _t: c.delete(f"/v1/marks/{mark}/attachment", headers=h),
    "PUT attachment": lambda c, h, mark, _t: c.put(
        f"/v1/marks/{mark}/attachment", content=b"late", headers=h
    ),
    "DELETE token": lambda c, h, _m, token: c.delete(f"/v1/tokens/{token}", headers=h),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_on_a_mark_that_went_with_its_account_is_401(
    lattice: WorkerLattice, api: httpx.Client, mailbox: Mailbox, write: str
) -> None:
    doomed = sign_in(api, mailbox, unique_email("doomed"), with_api_token=True)
    mark = create_mark(api, doomed.headers, note="about to go")
    assert api.put(f"/v1/marks/{mark['id']}/attachment", content=b"x", headers=doomed.headers).is_success
    with lattice.engine.connect() as deleter, ThreadPoolExecutor(1) as pool:
        deleter.execute(text("SELECT 1 FROM users WHERE id = :u FOR UPDATE"), {"u": doomed.id})
        deleter.execute(text("DELETE FROM users WHERE id = :u"), {"u": doomed.id})
        response = pool.submit(WRITES[write], api, doomed.headers, mark["id"], str(doomed.api_token_id))
        wait_until_blocked(lattice.engine, backend_pid(deleter), 1)
        deleter.commit()
        answered = response.result()
    assert_problem(answered, 401, "unauthenticated")
