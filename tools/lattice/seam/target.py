"""What the lattice needs to know about the application under test: one typed seam.

The lattice's plumbing asks these questions instead of importing the app, so another project adopts the
lattice by writing one module that answers them and naming it in `[tool.lattice] target` (pyproject.toml).
Retrace's answers are tools/retrace_target.py. The app's own objects (its settings, its runtime) pass
through the lattice untouched, typed `Any`: the lattice never looks inside them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine, MetaData
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    import dramatiq
    import httpx
    from dramatiq.middleware import Middleware

    from tools.lattice.seam.accounts import Mailbox, SignedInUser


@dataclass(frozen=True)
class PlaneSpec:
    """Where one throwaway environment (an xdist worker, a drill, the peer run) lives on each plane."""

    database_url: str
    redis_url: str
    db_schema: str
    redis_namespace: str
    queue_suffix: str
    data_dir: Path  # the app's files: `blobs/` and the Maildir `mail/` below it

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"


@dataclass
class AppUnderTest:
    """The app built in-process on one plane's settings: what the fixtures hand out and drive."""

    asgi: Any
    engine: Engine
    broker: Any  # the Dramatiq broker its jobs go through
    queue_name: str
    make_worker: Callable[[int, int], dramatiq.Worker]  # (threads, prefetch) -> a worker on queue_name
    runtime: Any  # the app's own wiring, for tests that reach into it (lattice.runtime)
    queue: Any  # the app's own queue object, for tests that enqueue directly (worker.queue)


@dataclass(frozen=True)
class ChainSpec:
    """The chain DB models -> Pydantic schemas -> OpenAPI: where its links are, and its known gaps."""

    schema_modules: tuple[ModuleType, ...]  # every Pydantic model defined in them is a component
    metadata: MetaData  # the tables
    operation_id: Callable[[Any], str]  # an APIRoute's operation id, as the document has it
    response_tables: Mapping[str, str]  # response component -> the table its same-named fields expose
    nullability_exceptions: Mapping[tuple[str, str], str] = field(default_factory=dict)  # with reasons


@dataclass(frozen=True)
class ServePlan:
    """How `python -m tools.lattice serve` runs the app on a service set."""

    settings: Any
    env: dict[str, str]
    notes: list[str]  # lines shown to the user (where mail goes, ...)
    fresh_dirs: list[Path]  # dirs whose files belong to the previous (now gone) database


class Target(Protocol):
    """The application under test, as the lattice sees it."""

    # ---- the database
    def sqlalchemy_url(self, database_url: str) -> str:
        """The SQLAlchemy URL (driver included) the app would use for this plain `postgresql://` URL."""
        ...

    def migration_sql(self) -> str:
        """The migrations to head as plain, schema-agnostic SQL (each plane's schema is built from it)."""
        ...

    def pending_changes(self, conn: Connection) -> list[Any]:
        """What the models have that the migrated schema on `conn` lacks: empty when they match."""
        ...

    def unreachable_reason(self, exc: DBAPIError) -> str:
        """One line saying why the database did not answer (the driver's own words)."""
        ...

    def revision_hint(self) -> str:
        """The command a developer runs to write the missing migration."""
        ...

    # ---- a plane and the app on it
    def plane_settings(self, plane: PlaneSpec, **overrides: object) -> Any:
        """The app's settings for this plane (test-friendly values; `overrides` win)."""
        ...

    def settings_env(self, settings: Any) -> dict[str, str]:
        """The environment that makes a child process build exactly these settings."""
        ...

    def build(self, settings: Any, middleware: list[Middleware]) -> AppUnderTest:
        """The app in-process on `settings`, its broker carrying `middleware` too."""
        ...

    def sign_in(
        self, client: httpx.Client, mailbox: Mailbox, email: str, *, with_api_token: bool
    ) -> SignedInUser:
        """A user signed in the way a client would (over `client`), codes read from `mailbox`."""
        ...

    # ---- the app as processes
    health_path: str

    def api_command(self, host: str, port: int) -> list[str]:
        """The API server process, as deployed (its settings come from `settings_env`)."""
        ...

    def worker_command(self) -> list[str]:
        """The background worker process."""
        ...

    def user_settings(self) -> Any:
        """The settings a person set (environment, .env); ValueError with one line when they are wrong."""
        ...

    def serve_plan(self, base: Any, database_url: str, redis_url: str, data_dir: Path) -> ServePlan:
        """What `serve` runs: `base` (the user's settings) pointed at the service set and `data_dir`."""
        ...

    def serve_command(self, host: str, port: int) -> list[str]:
        """API and worker together, for a person trying the app (migrating first: `serve` does not)."""
        ...

    # ---- the document
    def openapi_document(self) -> dict[str, Any]:
        """The OpenAPI document as the code builds it now (connecting to nothing)."""
        ...

    def chain(self) -> ChainSpec: ...
