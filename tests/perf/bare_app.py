"""The latency anchor: a bare FastAPI + SQLModel app doing only GET-by-primary-key on `marks`.

Same server (uvicorn with httptools, no access log), same driver (psycopg 3) and same schema as the
API under test, written the way the FastAPI/SQLModel tutorial writes it: a sync route, a Session per
request from a plain engine. No auth, no domain. The perf suite reports every API figure as a ratio to
this app's figures measured in the same run, so a loaded machine slows both sides alike.

`python -m tests.perf.bare_app PORT` with the service's `RETRACE_*` environment.
"""

# No `from __future__ import annotations`: FastAPI must see the route's dependency, a local function.

import sys
import uuid
from collections.abc import Iterator
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine
from sqlmodel import Session

from app.models import Mark
from app.settings import load_settings


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


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m tests.perf.bare_app PORT", file=sys.stderr)
        return 2
    uvicorn.run(
        create_bare_app(),
        host="127.0.0.1",
        port=int(argv[0]),
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
