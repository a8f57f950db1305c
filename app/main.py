"""`create_app(settings)`: the one way to build the Retrace API."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from dramatiq.brokers.redis import RedisBroker
from fastapi import FastAPI
from starlette.types import ASGIApp

from app.bodylimit import JsonBodyLimit
from app.debris import sweep_blob_debris
from app.docs_ui import install_docs
from app.http_policy import with_policy
from app.openapi import TITLE, VERSION, build_openapi, operation_id
from app.problems import install_problem_handlers
from app.routes import attachments, auth, health, marks, me, tokens
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from app.spans import with_spans

DESCRIPTION = (
    "Sign in with a one-time code sent by email, save marks (a URL and/or a note, with tags and an optional "
    "binary attachment); a background worker ingests each mark. Every error is RFC 9457 problem details."
)


class _RetraceAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # HEAD and Cache-Control, around everything else (app/http_policy.py); the optional per-request
        # spans around that (app/spans.py).
        spans_path = self.state.runtime.settings.spans_path
        return with_spans(with_policy(super().build_middleware_stack()), spans_path)


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, broker: RedisBroker | None = None
) -> FastAPI:
    """Build the app. Connects to nothing: the database and Redis are first touched by a request.

    Pass `runtime` to share one set of parts (engine, broker, queue) with a worker in the same process.
    """
    if runtime is None:
        runtime = build_runtime(settings or Settings(), broker=broker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything alive at start-up (modules, the app, its routes and models) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise walk it all again and
        # again (they were the 100+ ms p99 tail of GET /v1/marks under load).
        gc.freeze()
        # What a killed process left among the blobs goes before the first request (app/debris.py).
        await anyio.to_thread.run_sync(sweep_blob_debris, runtime.blobs, runtime.engine)
        yield
        runtime.close()

    app = _RetraceAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with local assets
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_docs(app, TITLE)
    for module in (auth, tokens, me, marks, attachments, health):
        app.include_router(module.router)
    app.add_middleware(JsonBodyLimit, limit=runtime.settings.max_json_body_bytes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
