"""Each xdist worker gets a database of its own, named after it (test_db_gw0, ...), created and migrated
here on the server of NOTES_DATABASE_URL and dropped at the end."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from notes.app import app
from notes.db import get_session

ROOT = Path(__file__).parents[2]


async def _admin(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = make_url(os.environ["NOTES_DATABASE_URL"])
    name = f"test_db_{os.environ.get('PYTEST_XDIST_WORKER', 'master')}"
    admin = given.set(drivername="postgresql").render_as_string(hide_password=False)
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    url = given.set(database=name).render_as_string(hide_password=False)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
    yield url
    asyncio.run(_admin(admin, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncClient]:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def session() -> AsyncIterator[AsyncSession]:
        async with sessions() as s:
            yield s

    app.dependency_overrides[get_session] = session
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http
    app.dependency_overrides.clear()
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM notes"))
    await engine.dispose()
