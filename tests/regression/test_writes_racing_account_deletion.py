"""`POST /v1/marks` and `POST /v1/tokens` racing `DELETE /v1/me` answered 500 `internal_error`.

What broke: a write authenticated (the account was there), then inserted its row; when the account's
deletion committed in between, the row's foreign key to `users` refused the insert, and the
IntegrityError reached the catch-all handler. Found by black-box probing (issue 13).

What fixed it: a foreign-key violation on a `*_user_id_fkey` constraint is answered as what it means to
the client: 401 `unauthenticated`, the account no longer exists (`app/problems.py`).

Locked reproduction: the test takes the user's row `FOR UPDATE` (as the deletion does), fires the write,
waits until PostgreSQL reports it blocked on the foreign-key check, deletes the user and commits.
Checked: on the code before the fix the in-process client re-raises the IntegrityError (a live port
answers 500); with the fix both writes get 401.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.flows import assert_problem, unique_email
from tests.regression.conftest import AppWith
from tools.lattice.engines.race.blocking import backend_pid, wait_until_blocked
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, sign_in


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/marks", {"note": "written as the account goes"}), ("/v1/tokens", {"name": "ci"})],
)
def test_a_write_that_loses_the_race_with_the_deletion_is_401(
    lattice: WorkerLattice, app_with: AppWith, mailbox: Mailbox, path: str, body: dict[str, Any]
) -> None:
    with app_with() as client:
        doomed = sign_in(client, mailbox, unique_email("doomed"))
        with lattice.engine.connect() as deleter, ThreadPoolExecutor(1) as pool:
            deleter.execute(text("SELECT 1 FROM users WHERE id = :u FOR UPDATE"), {"u": doomed.id})
            pid = backend_pid(deleter)
            write = pool.submit(client.post, path, json=body, headers=doomed.headers)
            wait_until_blocked(lattice.engine, pid, 1)
            deleter.execute(text("DELETE FROM users WHERE id = :u"), {"u": doomed.id})
            deleter.commit()
            response = write.result()
    assert_problem(response, 401, "unauthenticated")
