"""Opaque keyset cursors over `(created_at, id)`, so a walk sees every mark exactly once.

A cursor is accepted only if it is exactly what `encode` would issue for the position it names: any other
text (bad base64, other JSON, values of other types, extra items, another spelling of the same time or
id) is the one refusal, 422 `invalid_cursor`. Reading it is total: whatever the client sends, the
outcome is a position or that refusal, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from app.problems import Problem


def encode(created_at: datetime, mark_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(mark_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> Problem:
    return Problem(422, "invalid_cursor", "the cursor is not one this service issued")


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    position = _position(cursor)
    # Only the issued spelling: base64 that skips stray characters, `{...}` or `urn:uuid:` ids and other
    # ISO 8601 forms all read as a position, but none of them was issued by this service.
    if position is None or encode(*position) != cursor:
        raise invalid_cursor()
    return position


def _position(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    match value:
        case [str(created_text), str(id_text)]:
            try:
                created_at, mark_id = datetime.fromisoformat(created_text), uuid.UUID(id_text)
            except ValueError:
                return None
            return (created_at, mark_id) if created_at.tzinfo is not None else None
        case _:
            return None
