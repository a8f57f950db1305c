"""Sign-in by one-time code: user creation, case-insensitive emails, invalid codes, lockout, rate limit,
and secrets stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.models import OtpChallenge, User
from app.settings import Settings
from tests.integration.flows import (
    Json,
    assert_problem,
    assert_validation_problem,
    request_code,
    unique_email,
)
from tests.schema_tables import OTP_REQUEST, OTP_VERIFY, refused
from tools.lattice.seam.accounts import Mailbox, sign_in


def _verify(api: httpx.Client, challenge_id: uuid.UUID, code: str) -> httpx.Response:
    return api.post("/v1/auth/otp/verify", json={"challenge_id": str(challenge_id), "code": code})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_first_verification_creates_the_user(api: httpx.Client, mailbox: Mailbox, db: Session) -> None:
    email = unique_email("first")
    challenge = request_code(api, email)
    assert db.exec(select(User).where(User.email == email)).first() is None, "requesting must not create"
    response = _verify(api, challenge, mailbox.latest_code(email))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == email
    stored = db.exec(select(User).where(User.email == email)).one()
    assert str(stored.id) == body["user"]["id"]
    me = api.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == body["user"]["id"]


def test_code_mail_has_the_subject_and_the_code_alone_on_a_line(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("mail")
    request_code(api, email)
    (message,) = mailbox.messages(to=email)
    assert message["Subject"] == "Your Retrace code"
    code = mailbox.latest_code(email)
    assert len(code) == 6
    assert code.isdigit()
    # and how long it works, in whole minutes (the code's 10-minute lifetime, not "10.0")
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "It works once, for 10 minutes." in body.decode()


def test_email_is_compared_case_insensitively(api: httpx.Client, mailbox: Mailbox, db: Session) -> None:
    local = f"MiXeD-{uuid.uuid4().hex[:10]}"
    first = sign_in(api, mailbox, f"{local}@Example.TEST")
    second = sign_in(api, mailbox, f"{local.lower()}@example.test")
    assert first.id == second.id
    users = db.exec(select(User).where(User.id == first.id)).all()
    assert [u.email for u in users] == [f"{local.lower()}@example.test"], "stored lower-case, once"


def test_wrong_code_is_otp_invalid(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("wrong")
    challenge = request_code(api, email)
    assert_problem(_verify(api, challenge, _wrong(mailbox.latest_code(email))), 401, "otp_invalid")


def test_unknown_challenge_is_otp_invalid(api: httpx.Client) -> None:
    assert_problem(_verify(api, uuid.uuid4(), "123456"), 401, "otp_invalid")


def test_expired_code_is_otp_invalid(api: httpx.Client, mailbox: Mailbox, db: Session) -> None:
    email = unique_email("expired")
    challenge = request_code(api, email)
    row = db.get(OtpChallenge, challenge)
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert_problem(_verify(api, challenge, mailbox.latest_code(email)), 401, "otp_invalid")


def test_code_works_once(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("reuse")
    challenge = request_code(api, email)
    code = mailbox.latest_code(email)
    assert _verify(api, challenge, code).status_code == 200
    assert_problem(_verify(api, challenge, code), 401, "otp_invalid")


def test_five_wrong_codes_then_locked_even_for_the_right_code(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("lock")
    challenge = request_code(api, email)
    code = mailbox.latest_code(email)
    for _ in range(5):
        assert_problem(_verify(api, challenge, _wrong(code)), 401, "otp_invalid")
    assert_problem(_verify(api, challenge, code), 429, "otp_locked")
    assert_problem(_verify(api, challenge, _wrong(code)), 429, "otp_locked")
    assert_problem(_verify(api, challenge, code), 429, "otp_locked")


def test_lockout_is_per_challenge(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("lock2")
    locked = request_code(api, email)
    code = mailbox.latest_code(email)
    for _ in range(5):
        _verify(api, locked, _wrong(code))
    fresh = request_code(api, email)
    assert _verify(api, fresh, mailbox.latest_code(email)).status_code == 200


def test_sixth_request_in_the_window_is_rate_limited_and_issues_nothing(
    api: httpx.Client, mailbox: Mailbox, db: Session
) -> None:
    email = unique_email("limit")
    for _ in range(5):
        request_code(api, email)
    assert len(mailbox.messages(to=email)) == 5
    response = api.post("/v1/auth/otp", json={"email": email.upper()})
    assert_problem(response, 429, "rate_limited")
    assert len(mailbox.messages(to=email)) == 5, "a refused request sent mail"
    rows = db.exec(select(OtpChallenge).where(OtpChallenge.email == email)).all()
    assert len(rows) == 5, "a refused request stored a challenge"
    other = unique_email("limit-other")
    request_code(api, other)  # the limit is per email


def test_challenges_older_than_the_window_do_not_count(
    api: httpx.Client, mailbox: Mailbox, db: Session
) -> None:
    email = unique_email("window")
    for _ in range(5):
        request_code(api, email)
    db.execute(
        text("UPDATE otp_challenges SET created_at = created_at - interval '16 minutes' WHERE email = :e"),
        {"e": email},
    )
    db.commit()
    request_code(api, email)
    assert len(mailbox.messages(to=email)) == 6


def test_codes_and_tokens_are_stored_only_as_sha256_digests(
    api: httpx.Client, mailbox: Mailbox, db: Session
) -> None:
    email = unique_email("hash")
    challenge = request_code(api, email)
    code = mailbox.latest_code(email)
    verified = _verify(api, challenge, code).json()
    session_token = verified["access_token"]
    created = api.post(
        "/v1/tokens", json={"name": "ci"}, headers={"Authorization": f"Bearer {session_token}"}
    ).json()
    api_token = created["token"]

    challenge_rows = db.execute(
        text("SELECT row_to_json(c)::text, c.code_hash FROM otp_challenges c WHERE c.id = :id"),
        {"id": challenge},
    ).all()
    assert [digest for _, digest in challenge_rows] == [hashlib.sha256(code.encode()).hexdigest()]
    token_rows = db.execute(
        text("SELECT row_to_json(t)::text, t.token_hash FROM tokens t WHERE t.user_id = :u"),
        {"u": uuid.UUID(verified["user"]["id"])},
    ).all()
    assert sorted(digest for _, digest in token_rows) == sorted(
        hashlib.sha256(secret.encode()).hexdigest() for secret in (session_token, api_token)
    )
    for row_text, _ in (*challenge_rows, *token_rows):
        assert code not in row_text.replace(hashlib.sha256(code.encode()).hexdigest(), "")
        for secret in (session_token, api_token):
            # Only the short display prefix of a secret may be kept, never the secret itself.
            assert secret not in row_text
            assert secret[12:] not in row_text


@pytest.mark.parametrize(("body", "field"), refused(OTP_REQUEST))
def test_request_validation(api: httpx.Client, mailbox: Mailbox, body: Json, field: str) -> None:
    sent = len(mailbox.messages())
    assert_validation_problem(api.post("/v1/auth/otp", json=body), field)
    assert len(mailbox.messages()) == sent, "a refused request sent a code"


@pytest.mark.parametrize(("body", "field"), refused(OTP_VERIFY))
def test_verify_validation(api: httpx.Client, body: Json, field: str) -> None:
    assert_validation_problem(api.post("/v1/auth/otp/verify", json=body), field)


def test_a_session_token_lives_its_ttl_then_is_refused(
    api: httpx.Client, mailbox: Mailbox, db: Session, settings: Settings
) -> None:
    email = unique_email("session")
    response = _verify(api, request_code(api, email), mailbox.latest_code(email))
    body = response.json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert abs(lifetime.total_seconds() - settings.session_ttl_seconds) < 60, lifetime
    assert api.get("/v1/me", headers=headers).status_code == 200

    db.execute(
        text("UPDATE tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :h"),
        {"h": hashlib.sha256(body["access_token"].encode()).hexdigest()},
    )
    db.commit()
    body = assert_problem(api.get("/v1/me", headers=headers), 401, "unauthenticated")
    assert "expired" in body["detail"]
