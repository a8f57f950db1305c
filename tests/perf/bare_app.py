"""The tutorial reference: a bare FastAPI + SQLModel app doing only GET-by-primary-key on `marks`.

Same server (uvicorn with httptools, no access log), same driver (psycopg 3) and same schema as the
API under test, written the way the FastAPI/SQLModel tutorial writes it: a sync route, a Session per
request from a plain engine. No auth, no domain. Two thread-pool hops per request (the sync
generator dependency and the sync route) on a default pool of 5: slower than Retrace itself, so it is
not the floor (tests/perf/floor_app.py is). It stays as a second, labelled reference: the gates that
predate the floor (the load-scaled p95 gate, the `*_vs_bare` ratios against the baseline) divide by it.

`python -m tests.perf.bare_app PORT` with the service's `RETRACE_*` environment.
"""

# No `from __future__ import annotations`: FastAPI must see the route's dependency, a local function.

import sys
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine
from sqlmodel import Session

from app.models import Mark
from app.settings import load_settings
from tests.perf.anchor_server import serve


def create_bare_app() -> FastAPI:
    settings = load_settings()
    engine = create_engine(
        settings.sqlalchemy_url, connect_args={"options": f"-c search_path={settings.db_schema}"}
    )

    def get_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/marks/{mark_id}")
    def get_mark(mark_id: uuid.UUID, session: Annotated[Session, Depends(get_session)]) -> Mark:
        mark = session.get(Mark, mark_id)
        if mark is None:
            raise HTTPException(status_code=404)
        return mark

    return app


if __name__ == "__main__":
    sys.exit(serve(create_bare_app, "tests.perf.bare_app", sys.argv[1:]))
