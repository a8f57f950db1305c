"""A client aborting an upload mid-body logged two ERROR tracebacks per abort.

What broke: Starlette raises `ClientDisconnect` when the client goes away while the body is read. Nothing
handled it, so the catch-all handler logged "unhandled error" with a traceback, answered 500 to nobody,
and re-raised, and uvicorn logged "Exception in ASGI application" with a second one. Aborted uploads are
a client's everyday business (a closed laptop, a cancelled request), not a server error: a flood of
them would bury the real errors. Found by black-box probing (issue 13).

What fixed it: `ClientDisconnect` has a handler of its own that logs one INFO line (`app/problems.py`);
the partial blob is removed as before.

Locked reproduction: one PUT driven through the app by hand, 10 of 100 bytes sent, then the client
disconnects: nothing may escape the app and no ERROR record may be logged. Checked: on the code before
the fix the app raises ClientDisconnect and logs an ERROR (this case fails); with the fix, neither.
"""

from __future__ import annotations

import logging

import anyio
import pytest
from sqlalchemy import text

from app.main import create_app
from app.runtime import Runtime
from tests.integration.flows import create_mark
from tools.lattice.engines.race.asgi import stall_then_disconnect
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser


def test_a_client_that_goes_away_mid_upload_logs_no_error(
    lattice: WorkerLattice, user: SignedInUser, caplog: pytest.LogCaptureFixture
) -> None:
    mark = create_mark(lattice.client, user.headers, note="never finished")
    app = create_app(settings=lattice.plane.settings())
    runtime: Runtime = app.state.runtime
    caplog.set_level(logging.INFO)
    try:
        aborted = anyio.run(
            lambda: stall_then_disconnect(
                app,
                "PUT",
                f"/v1/marks/{mark['id']}/attachment",
                {**user.headers, "Content-Length": "100"},
                first_bytes=b"0123456789",
                probe=lambda: None,
            )
        )
    finally:
        runtime.close()
    assert aborted.raised is None, f"escaped the app: {aborted.raised!r}"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    with lattice.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar() == 0
    assert not [p for p in lattice.settings.blob_dir.rglob("*.part")], "a partial blob was left behind"
