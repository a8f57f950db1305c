"""Secrets are stored only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
