"""`DELETE /v1/me` racing an attachment upload left the deleted user's bytes on disk.

What broke: the deletion listed the user's blob ids, then deleted the user (attachments going by ON
DELETE CASCADE), then removed the listed files. An upload that inserted its attachment row after the
listing but committed before the cascade reached the mark had its row cascaded away with the account,
and its file was never on the list. Found by black-box probing (issue 13): 6 parallel 300 KB PUTs and
one DELETE /v1/me left blob files with no attachment row in 3 of 8 trials.

What fixed it: the account's row is the lock that orders the two (`app/accounts.py`). An attachment write
takes it `FOR KEY SHARE` before anything else; the deletion takes it `FOR UPDATE` before listing the
blobs. Either the upload commits first and the listing sees its blob, or the deletion commits first and
the upload finds the account gone (401) and drops the file it wrote.

Locked reproduction: the test holds the mark's ingestion row, which an upload locks last, so the upload
waits with its attachment row written but not committed; the deletion is fired then, and the test lets go
once PostgreSQL reports both requests waiting. Checked: on the code before the fix the upload answers 200,
the deletion 204, and the uploaded blob stays on disk (this case fails); with the fix no file is left.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from tests.integration.flows import create_mark, unique_email
from tests.regression.conftest import AppWith
from tools.lattice.engines.race.blocking import backend_pid, wait_until_blocked
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, sign_in


def _blob_files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_an_upload_racing_the_deletion_of_its_account_leaves_no_file(
    lattice: WorkerLattice, app_with: AppWith, mailbox: Mailbox
) -> None:
    blob_dir = lattice.settings.blob_dir
    with app_with() as client:
        doomed = sign_in(client, mailbox, unique_email("doomed"))
        mark = create_mark(client, doomed.headers, note="about to go")
        before = _blob_files(blob_dir)
        with lattice.engine.connect() as holder, ThreadPoolExecutor(2) as pool:
            holder.execute(text("SELECT 1 FROM ingestions WHERE mark_id = :m FOR UPDATE"), {"m": mark["id"]})
            pid = backend_pid(holder)
            put = pool.submit(
                client.put,
                f"/v1/marks/{mark['id']}/attachment",
                content=os.urandom(300_000),
                headers={**doomed.headers, "Content-Type": "application/octet-stream"},
            )
            wait_until_blocked(lattice.engine, pid, 1)
            delete = pool.submit(client.delete, "/v1/me", headers=doomed.headers)
            wait_until_blocked(lattice.engine, pid, 2)
            holder.rollback()
            put_status, delete_status = put.result().status_code, delete.result().status_code

    assert delete_status == 204
    assert put_status in (200, 401), put_status
    with lattice.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM marks WHERE id = :m"), {"m": mark["id"]}).scalar() == 0
    left = _blob_files(blob_dir) - before
    assert not left, f"the deleted account's bytes are still on disk: {sorted(map(str, left))}"
