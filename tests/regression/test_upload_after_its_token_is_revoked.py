"""An API token revoked while its upload was on the way still stored the upload.

What broke: `PUT /v1/marks/{id}/attachment` checked the bearer token once, before the body; the body
then arrived at the client's pace, and the attachment was stored whatever had happened to the token
meanwhile. A token revoked (`DELETE /v1/tokens/{id}` answered 204) could still finish, minutes later,
an upload it had begun before. Found by a grey-box probe (issue 26, defect 6).

What fixed it: the rule in docs/api.md: a write's credential is checked again when it commits, in the
transaction that stores it (`app/routes/attachments.py` `_attach`, `app/auth/tokens.py`
`hold_credential`). A token revoked or expired, or an account deleted, while the body arrived: 401, and
nothing is stored. The token stays held `FOR SHARE` until that commit, so a revocation that comes later
waits for it: no write lands after a revocation has answered.

Locked reproduction: the upload is driven through the app by hand; after the first part of its body the
token is revoked (through another client, with the user's session token), then the rest is sent.
Checked: on the code before the fix the upload answers 200 and the new bytes are the mark's attachment
(this case fails); with the fix it answers 401, the mark keeps no attachment, and no file is left.
"""

from __future__ import annotations

from functools import partial

import anyio
import httpx

from app.main import create_app
from tests.integration.flows import create_mark, unique_email
from tools.lattice.engines.race.asgi import drive
from tools.lattice.engines.race.observe import blob_files
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, sign_in


def test_an_upload_whose_token_is_revoked_midway_stores_nothing(
    lattice: WorkerLattice, api: httpx.Client, mailbox: Mailbox
) -> None:
    person = sign_in(api, mailbox, unique_email("revoker"), with_api_token=True)
    mark = create_mark(api, person.headers, note="uploaded by a script")
    path = f"/v1/marks/{mark['id']}/attachment"
    headers = {**person.api_headers, "Content-Type": "text/plain", "Content-Length": "20"}
    before = blob_files(lattice.settings.blob_dir)

    def revoke() -> int:
        return api.delete(f"/v1/tokens/{person.api_token_id}", headers=person.headers).status_code

    app = create_app(settings=lattice.plane.settings())
    try:
        driven = anyio.run(
            partial(
                drive,
                app,
                "PUT",
                path,
                headers,
                body_parts=[b"first half", b"secondhalf"],
                between_parts=revoke,
            )
        )
    finally:
        app.state.runtime.close()
    assert driven.between == 204, f"the revocation answered {driven.between}"
    assert driven.status == 401, (
        f"an upload finished after its token was revoked: {driven.status} {driven.body!r}"
    )
    assert api.get(f"/v1/marks/{mark['id']}", headers=person.headers).json()["attachment"] is None
    assert blob_files(lattice.settings.blob_dir) == before
