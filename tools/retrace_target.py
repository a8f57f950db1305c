"""Retrace as the lattice's target: the one place where the lattice's questions meet `app`.

Named in pyproject.toml (`[tool.lattice] target = "tools.retrace_target:TARGET"`); tools/lattice imports
nothing from `app`, so a change to the service ripples here and nowhere else in the harness.
"""

from __future__ import annotations

import sys
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from dramatiq.middleware import Middleware
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from app import problems, schemas
from app.db import unreachable_reason
from app.ingestion.queue import make_broker, make_worker
from app.main import create_app
from app.migrate import pending_changes, upgrade_sql
from app.openapi import operation_id
from app.runtime import build_runtime
from app.settings import Settings, load_settings
from tools.lattice.seam.accounts import Mailbox, SignedInUser
from tools.lattice.seam.target import AppUnderTest, ChainSpec, PlaneSpec, ServePlan, Target

ENV_PREFIX = "RETRACE_"

# Placeholders for building the document: create_app() wires its parts lazily, so these are never used.
_DUMMY_DATABASE_URL = "postgresql://spec@127.0.0.1:1/spec"
_DUMMY_REDIS_URL = "redis://127.0.0.1:1/0"


class RetraceTarget:
    health_path = "/healthz"

    # ---- the database
    def sqlalchemy_url(self, database_url: str) -> str:
        return Settings(database_url=database_url).sqlalchemy_url

    def migration_sql(self) -> str:
        return upgrade_sql()

    def pending_changes(self, conn: Connection) -> list[Any]:
        return pending_changes(conn)

    def unreachable_reason(self, exc: DBAPIError) -> str:
        return unreachable_reason(exc)

    def revision_hint(self) -> str:
        return "retrace revision -m '<what changed>'"

    # ---- a plane and the app on it
    def plane_settings(self, plane: PlaneSpec, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": plane.database_url,
            "redis_url": plane.redis_url,
            "db_schema": plane.db_schema,
            "redis_namespace": plane.redis_namespace,
            "queue_suffix": plane.queue_suffix,
            "blob_dir": plane.blob_dir,
            "mailer": f"maildir:{plane.maildir}",
            # Small enough that the 413 path is cheap to prove, large enough for 1 MiB perf uploads.
            "max_upload_bytes": 2 * 1024 * 1024,
            "ingest_min_backoff_ms": 10,
            "ingest_max_backoff_ms": 50,
            "worker_threads": 2,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def settings_env(self, settings: Settings) -> dict[str, str]:
        return {
            f"{ENV_PREFIX}{name.upper()}": str(value)
            for name, value in settings.model_dump().items()
            if value is not None
        }

    def build(self, settings: Settings, middleware: list[Middleware]) -> AppUnderTest:
        broker = make_broker(settings)
        for each in middleware:
            broker.add_middleware(each)
        runtime = build_runtime(settings, broker=broker)
        queue = runtime.ingestion
        return AppUnderTest(
            asgi=create_app(runtime=runtime),
            engine=runtime.engine,
            broker=queue.broker,
            queue_name=queue.queue_name,
            make_worker=lambda threads, prefetch: make_worker(queue, threads=threads, prefetch=prefetch),
            runtime=runtime,
            queue=queue,
        )

    def sign_in(
        self, client: httpx.Client, mailbox: Mailbox, email: str, *, with_api_token: bool
    ) -> SignedInUser:
        response = client.post("/v1/auth/otp", json={"email": email})
        assert response.status_code == 202, response.text
        challenge = response.json()["challenge_id"]
        response = client.post(
            "/v1/auth/otp/verify", json={"challenge_id": challenge, "code": mailbox.latest_code(email)}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        user = SignedInUser(id=uuid.UUID(body["user"]["id"]), email=email, session_token=body["access_token"])
        if with_api_token:
            created = client.post("/v1/tokens", json={"name": "lattice"}, headers=user.headers)
            assert created.status_code == 201, created.text
            user.api_token, user.api_token_id = created.json()["token"], uuid.UUID(created.json()["id"])
        return user

    # ---- the app as processes
    def api_command(self, host: str, port: int) -> list[str]:
        # `retrace api`, as deployed: the same uvicorn protocol and limits as `retrace serve`.
        return [
            *(sys.executable, "-m", "app.cli", "api", "--host", host, "--port", str(port)),
            *("--log-level", "warning", "--no-access-log"),
        ]

    def worker_command(self) -> list[str]:
        return [sys.executable, "-m", "app.cli", "worker"]

    def serve_command(self, host: str, port: int) -> list[str]:
        return [sys.executable, "-m", "app.cli", "serve", "--host", host, "--port", str(port)]

    def user_settings(self) -> Settings:
        return load_settings()  # SettingsError is a ValueError with one line

    def serve_plan(self, base: Settings, database_url: str, redis_url: str, data_dir: Path) -> ServePlan:
        defaults = Settings.model_fields
        update: dict[str, Any] = {"database_url": database_url, "redis_url": redis_url}
        fresh: list[Path] = []
        # Mail and attachments go under the data dir, unless the user chose places of their own.
        if base.mailer == defaults["mailer"].default:
            update["mailer"] = f"maildir:{(data_dir / 'mail').resolve()}"
            fresh.append((data_dir / "mail").resolve())
        if base.blob_dir == defaults["blob_dir"].default:
            update["blob_dir"] = (data_dir / "blobs").resolve()
            fresh.append((data_dir / "blobs").resolve())
        settings = base.model_copy(update=update)
        notes = [
            f"  {ENV_PREFIX}DATABASE_URL={database_url}",
            f"  {ENV_PREFIX}REDIS_URL={redis_url}",
            f"  data dir: {data_dir.resolve()}",
            f"  mail (sign-in codes) goes to: {settings.mailer.removeprefix('maildir:')}/new",
        ]
        return ServePlan(settings=settings, env=self.settings_env(settings), notes=notes, fresh_dirs=fresh)

    # ---- the document
    def openapi_document(self) -> dict[str, Any]:
        app = create_app(Settings(database_url=_DUMMY_DATABASE_URL, redis_url=_DUMMY_REDIS_URL))
        try:
            return app.openapi()
        finally:
            app.state.runtime.close()

    def chain(self) -> ChainSpec:
        return _chain()


@cache
def _chain() -> ChainSpec:
    """Built once a process: the chain checks ask for it again and again."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401 - registers the tables

    return ChainSpec(
        schema_modules=(schemas, problems),
        metadata=SQLModel.metadata,
        operation_id=operation_id,
        response_tables={
            "MarkOut": "marks",
            "AttachmentOut": "attachments",
            "IngestionOut": "ingestions",
            "IngestionResult": "ingestions",
            "UserOut": "users",
            "TokenOut": "tokens",
            "TokenCreated": "tokens",
        },
        nullability_exceptions={
            ("IngestionResult", "word_count"): "the result exists only once ingested, when it is set",
            ("IngestionResult", "title"): "column null until ingested; the result's title may be null",
            ("TokenOut", "name"): "only session tokens have no name, and they are never listed",
            ("TokenCreated", "name"): "an API token is always created with a name",
        },
    )


# Annotated so mypy checks, here, that RetraceTarget answers every question of the protocol.
TARGET: Target = RetraceTarget()
