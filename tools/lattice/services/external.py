"""The external tier: servers someone else runs (CI service containers, a developer's own).

Used as they are and never stopped, dropped or flushed: isolation inside them is the harness's job.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import psycopg
import redis

from tools.lattice.config import LatticeSettings
from tools.lattice.services.base import ServiceSet, ServiceUnavailable

CHECK_TIMEOUT = 3


def _where(url: str) -> str:
    """host:port of a URL, never its password, for messages."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 'default port'}"


def _libpq_form(url: str) -> str:
    # SQLAlchemy-style "postgresql+psycopg://" is a common paste; libpq and our callers want the plain form.
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def configured(settings: LatticeSettings) -> bool:
    return bool(settings.database_url or settings.redis_url)


def start_external(settings: LatticeSettings) -> ServiceSet:
    missing = [
        name
        for name, value in (
            ("LATTICE_DATABASE_URL", settings.database_url),
            ("LATTICE_REDIS_URL", settings.redis_url),
        )
        if not value
    ]
    if missing:
        raise ServiceUnavailable(
            f"lattice: external provider needs {' and '.join(missing)} set (both URLs), "
            "or docker-compose.dev.yml's set up (docker compose -f docker-compose.dev.yml up -d --wait)"
        )
    assert settings.database_url is not None
    assert settings.redis_url is not None
    database_url = _libpq_form(settings.database_url)
    try:
        with psycopg.connect(database_url, connect_timeout=CHECK_TIMEOUT, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(
            f"lattice: LATTICE_DATABASE_URL ({_where(database_url)}) does not answer: {reason}"
        ) from None
    client = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT
    )
    try:
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ServiceUnavailable(
            f"lattice: LATTICE_REDIS_URL ({_where(settings.redis_url)}) does not answer: {exc}"
        ) from None
    finally:
        client.close()
    return ServiceSet(f"ext-{secrets.token_hex(3)}", "external", database_url, settings.redis_url)
