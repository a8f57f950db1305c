"""The database of NOTES_DATABASE_URL as it is: migrated here at the start, downgraded at the end."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from notes.app import app
from notes.db import engine

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session", autouse=True)
def migrated() -> Iterator[None]:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", os.environ["NOTES_DATABASE_URL"].replace("%", "%%"))
    command.upgrade(config, "head")
    yield
    command.downgrade(config, "base")


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM notes"))
    await engine.dispose()  # its pool is bound to this test's event loop
