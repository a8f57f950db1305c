"""The user's row as the lock that orders every write against the account's deletion.

`DELETE /v1/me` takes the row `FOR UPDATE`; a write that must not outlive the account (an attachment,
whose bytes live outside the database) first takes it `FOR KEY SHARE`. The two conflict, so either the
write commits first and the deletion sees (and removes) what it wrote, or the deletion commits first and
the write finds the account gone and answers 401 — never a file on disk with no row, never a 500.
Inserts referencing the user (marks, tokens) get the same ordering from their foreign key.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from app.models import User
from app.problems import unauthenticated

ACCOUNT_GONE = "the account no longer exists"


def hold_account(session: Session, user_id: uuid.UUID) -> None:
    """Keep the account from being deleted until this transaction ends; 401 if it is gone already."""
    query = select(User.id).where(col(User.id) == user_id).with_for_update(key_share=True)
    if session.exec(query).first() is None:
        raise unauthenticated(ACCOUNT_GONE)


def lock_account_for_deletion(session: Session, user_id: uuid.UUID) -> None:
    """Wait for every write holding the account to commit; 401 if another deletion won."""
    if session.exec(select(User.id).where(col(User.id) == user_id).with_for_update()).first() is None:
        raise unauthenticated(ACCOUNT_GONE)
