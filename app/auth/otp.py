"""One-time sign-in codes: issue with a per-email rate limit, verify with a per-challenge lockout."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.auth.hashing import digest, matches
from app.models import OtpChallenge, User
from app.problems import BEARER_CHALLENGE, Problem

CODE_TTL = timedelta(minutes=10)
RATE_WINDOW = timedelta(minutes=15)
MAX_CHALLENGES_PER_WINDOW = 5
MAX_WRONG_CODES = 5


@dataclass(frozen=True)
class IssuedChallenge:
    challenge: OtpChallenge
    code: str


def issue(session: Session, email: str, now: datetime) -> IssuedChallenge:
    """Create a challenge for `email`, or refuse with 429 when the window is full."""
    # Serialise issuers of one email, so concurrent requests cannot both slip under the limit.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:email))"), {"email": email})
    recent = session.scalar(
        select(func.count())
        .select_from(OtpChallenge)
        .where(OtpChallenge.email == email, col(OtpChallenge.created_at) > now - RATE_WINDOW)
    )
    if (recent or 0) >= MAX_CHALLENGES_PER_WINDOW:
        raise Problem(
            429,
            "rate_limited",
            f"at most {MAX_CHALLENGES_PER_WINDOW} codes per email every {RATE_WINDOW.seconds // 60} minutes",
            headers={"Retry-After": str(RATE_WINDOW.seconds)},
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = OtpChallenge(email=email, code_hash=digest(code), created_at=now, expires_at=now + CODE_TTL)
    session.add(challenge)
    return IssuedChallenge(challenge, code)


def verify(session: Session, challenge_id: uuid.UUID, code: str, now: datetime) -> User:
    """Spend the challenge and return its user (created on first sign-in), or raise a problem."""
    challenge = session.exec(
        select(OtpChallenge).where(OtpChallenge.id == challenge_id).with_for_update()
    ).first()
    invalid = Problem(
        401, "otp_invalid", "the code is wrong, expired or already used", headers=BEARER_CHALLENGE
    )
    if challenge is None:
        raise invalid
    if challenge.failed_attempts >= MAX_WRONG_CODES:
        raise Problem(429, "otp_locked", "too many wrong codes for this challenge; request a new code")
    if challenge.used_at is not None or challenge.expires_at <= now:
        raise invalid
    if not matches(code, challenge.code_hash):
        challenge.failed_attempts += 1
        session.add(challenge)
        session.commit()
        raise invalid
    challenge.used_at = now
    session.add(challenge)
    return _user_for(session, challenge.email, now)


def _user_for(session: Session, email: str, now: datetime) -> User:
    # ON CONFLICT keeps two first sign-ins of one email from racing into a unique violation.
    session.execute(
        insert(User)
        .values(id=uuid.uuid4(), email=email, created_at=now)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    return session.exec(select(User).where(User.email == email)).one()
