"""The floor anchor: the leanest GET-by-primary-key on `marks` this stack allows. Every ratio divides by it.

Per request: uvicorn (httptools) parses the request; FastAPI matches the route and converts the path
parameter to a UUID; the route is a plain `def`, so Starlette makes exactly one hop to its thread pool,
where a connection is checked out of the service's own engine (app.db.make_engine: psycopg 3, a
SQLAlchemy QueuePool sized like the service's, RETRACE_DB_POOL_SIZE plus as much overflow) in
autocommit, so the one statement is the only round trip (no BEGIN, no ROLLBACK when it goes back);
a prepared Core SELECT of the mark's columns by primary key, no ORM object, no identity map; the row is
written to JSON by the standard library and returned as bytes, with no response model to validate.
No auth, no domain, no middleware. What is left is the server, the router, one thread hop, one pooled
round trip and one dumps: see docs/performance.md for why nothing leaner exists on this stack.

`python -m tests.perf.floor_app PORT` with the service's `RETRACE_*` environment.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime

from fastapi import FastAPI, Response
from sqlalchemy import bindparam, select

from app.db import make_engine
from app.models import Mark
from app.settings import load_settings
from tests.perf.anchor_server import serve

_COLUMNS = Mark.__table__.c  # type: ignore[attr-defined]


def _json_value(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def create_floor_app() -> FastAPI:
    engine = make_engine(load_settings()).execution_options(isolation_level="AUTOCOMMIT")
    # Compiled once here; SQLAlchemy's statement cache and psycopg's prepared statements do the rest.
    statement = select(*_COLUMNS).where(_COLUMNS.id == bindparam("pk"))
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/marks/{mark_id}")
    def get_mark(mark_id: uuid.UUID) -> Response:
        with engine.connect() as connection:
            row = connection.execute(statement, {"pk": mark_id}).mappings().first()
        if row is None:
            return Response(status_code=404)
        return Response(json.dumps(dict(row), default=_json_value), media_type="application/json")

    return app


if __name__ == "__main__":
    sys.exit(serve(create_floor_app, "tests.perf.floor_app", sys.argv[1:]))
