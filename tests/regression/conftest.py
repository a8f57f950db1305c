"""Helpers of the regression bank: an app on this worker's planes with some settings changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session
from starlette.testclient import TestClient

from app.main import create_app
from tools.lattice.live.fixtures import live, live_stack
from tools.lattice.plugin.workerstate import WorkerLattice

# Cases promoted from the race suite build its machine on the live stack (started only when asked for).
__all__ = ["app_with", "live", "live_stack"]


@contextmanager
def refusing(db: Session, name: str, when: str, body: str) -> Iterator[None]:
    """A real database refusal for the block: trigger `name` runs PL/pgSQL `body` `when` (e.g. `BEFORE
    INSERT ON marks`) on each row; the trigger and its function are dropped afterwards."""
    db.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"))
    db.execute(text(f"CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {name}()"))
    db.commit()
    try:
        yield
    finally:
        db.rollback()
        db.execute(text(f"DROP TRIGGER {name} ON {when.split(' ON ', 1)[1]}"))
        db.execute(text(f"DROP FUNCTION {name}()"))
        db.commit()


AppWith = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def app_with(lattice: WorkerLattice, api: httpx.Client) -> AppWith:
    """`with app_with(mailer=...) as client:` runs the app on this worker's schema with those settings.

    Asking for `api` too makes the lattice reset the tables the test touched afterwards.
    """

    @contextmanager
    def build(**overrides: object) -> Iterator[TestClient]:
        app = create_app(settings=lattice.plane.settings(**overrides))
        with TestClient(app, base_url="http://retrace.test") as client:
            yield client

    return build
