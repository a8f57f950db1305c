"""Guards that stop a run before any test, with one line: the database answers; models == migrations.

Used by the pytest plugin at the start of every run, and by `python -m tools.lattice guard` (the
pre-commit hook), so both say the same thing in the same words.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tools.lattice.planes import schema as pg_plane
from tools.lattice.seam.targeting import TargetError, load_target


class GuardFailed(Exception):
    """The message is one actionable line."""


def check_database(database_url: str, provider: str) -> None:
    """Raise GuardFailed unless the database answers and the migrations describe the models exactly."""
    try:
        target = load_target()
    except TargetError as exc:
        raise GuardFailed(str(exc)) from None
    engine = create_engine(target.sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        diff = pg_plane.models_match_migrations(engine)
    except OperationalError as exc:
        reason = target.unreachable_reason(exc)
        raise GuardFailed(f"lattice: the database is unreachable ({provider}): {reason}") from None
    finally:
        engine.dispose()
    if diff:
        raise GuardFailed(
            f"lattice: the models and the migrations disagree (pending migration: {'; '.join(diff)}); "
            f"write one with `{target.revision_hint()}`"
        )


def _guard(args: argparse.Namespace) -> int:
    from tools.lattice.services import start_services
    from tools.lattice.services.base import announce_nothing

    with start_services(announce=announce_nothing) as services:
        try:
            check_database(services.database_url, services.provider)
        except GuardFailed as exc:
            print(exc)
            return 1
    print("lattice: migrations match the models")
    return 0


def add_guard_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "guard", help="fail when the models and the Alembic migrations disagree (a pending migration)"
    )
    parser.set_defaults(handler=_guard)
