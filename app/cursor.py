"""Opaque keyset cursors over `(created_at, id)`, so a walk sees every mark exactly once."""

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


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_text, id_text = json.loads(raw)
        created_at = datetime.fromisoformat(created_text)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return created_at, uuid.UUID(id_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise Problem(422, "invalid_cursor", "the cursor is not one this service issued") from exc
