"""A PostgreSQL restart reset the client's next request (ReadError), on a route that had answered fine.

What broke: the request's session was closed by FastAPI after the response had been sent
(`app/deps.py`, `get_session`, a dependency with `yield`). Closing rolls back the read transaction
the route left open; when PostgreSQL shut down between the answer and that close, the ROLLBACK raised
`AdminShutdown` ("terminating connection due to administrator command"). Starlette could only log
"Caught handled exception, but response already started", and uvicorn tore the connection down.

How it showed: `tests/live/test_drills.py::test_postgres_down_then_back` failed about one run in eight
with `httpx.ReadError: [Errno 104] Connection reset by peer` on the first `GET /readyz` after the
stop: the client's keep-alive connection was the one uvicorn had dropped; the API log held the
AdminShutdown traceback from `get_session`.

What fixed it: `get_session` closes the session with `_close_after_response`, which logs a driver
error instead of raising it. Nothing is lost: routes commit what they write before answering, and a
transaction on a connection the server dropped is rolled back by the server already.

Locked reproduction: the dependency is driven as FastAPI drives it; the session's backend is
terminated (as a shutdown terminates it) after the "route" read and before the teardown. Checked: with
`get_session` back to `with Session(...) as session: yield session`, the teardown raises
OperationalError (AdminShutdown) and this case fails; with the fix it passes, and the next session on the
same engine works (the pool's pre-ping replaces the dead connection).
"""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text

from app.deps import get_session
from tools.lattice.plugin.workerstate import WorkerLattice


def test_teardown_of_a_session_whose_connection_the_server_dropped_does_not_raise(
    lattice: WorkerLattice,
) -> None:
    runtime = lattice.runtime  # the parts the `api` fixture's app runs on

    async def request_then_restart() -> None:
        dependency = get_session(runtime)
        session = await anext(dependency)
        # What a read route does: a statement that leaves its transaction open until the teardown.
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with lattice.engine.connect() as admin:
            # What a fast shutdown does to every backend; waits (up to 5 s) until it is gone.
            terminated = admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})
            assert terminated.scalar_one()

        with pytest.raises(StopAsyncIteration):
            await anext(dependency)  # FastAPI's teardown, after the response went out

        # The engine recovers: the next request's session gets a live connection.
        following = get_session(runtime)
        assert (await anext(following)).execute(text("SELECT pg_backend_pid()")).scalar_one() != backend
        with pytest.raises(StopAsyncIteration):
            await anext(following)

    anyio.run(request_then_restart)
