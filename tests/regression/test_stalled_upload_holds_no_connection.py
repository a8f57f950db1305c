"""A stalled upload held a database transaction open for as long as the client liked.

What broke: `PUT /v1/marks/{id}/attachment` authenticated through the request's session (a dependency
that lives until the response), so the token lookup's transaction, and its pooled connection, stayed
open while the body arrived at the client's pace. A client that declared 100 bytes and sent 10 left its
connection `idle in transaction` for minutes; two dozen such clients took the whole pool and other
uploads got 503. Found by black-box probing (issue 13).

What fixed it: the upload authenticates in a session of its own that is closed before the body is read
(`app/deps.py`, `get_user_then_release`), and each later database step takes a request slot of its own.

Locked reproduction: one PUT driven through the app by hand, its body stalled after 10 of 100 bytes;
while the app waits for the rest, the app's pool must have no connection checked out and its request
slots none borrowed. Checked: on the code before the fix one connection is checked out at the stall
(this case fails); with the fix none is.
"""

from __future__ import annotations

import anyio

from app.main import create_app
from app.runtime import Runtime
from tests.integration.flows import create_mark
from tools.lattice.engines.race.asgi import stall_then_disconnect
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser


def test_no_connection_is_held_while_an_upload_body_stalls(
    lattice: WorkerLattice, user: SignedInUser
) -> None:
    mark = create_mark(lattice.client, user.headers, note="waiting for bytes")
    app = create_app(settings=lattice.plane.settings())
    runtime: Runtime = app.state.runtime

    def held() -> int:
        return runtime.engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]

    try:
        stalled = anyio.run(
            lambda: stall_then_disconnect(
                app,
                "PUT",
                f"/v1/marks/{mark['id']}/attachment",
                {**user.headers, "Content-Length": "100", "Content-Type": "text/plain"},
                first_bytes=b"0123456789",
                probe=held,
            )
        )
    finally:
        runtime.close()
    assert stalled.at_stall == 0, f"{stalled.at_stall} pooled connection(s) held while the body stalled"
