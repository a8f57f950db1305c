"""POST /v1/auth/otp and /v1/auth/otp/verify: sign-in by one-time code."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, status

from app.auth import otp
from app.auth.tokens import mint
from app.deps import RuntimeDep, SessionDep, utcnow
from app.mail import otp_message
from app.models import TokenKind
from app.routes.responses import RETRY_AFTER, errors
from app.schemas import OtpChallengeOut, OtpRequest, OtpVerify, SessionOut, UserOut

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post(
    "/otp",
    name="request-code",
    status_code=status.HTTP_202_ACCEPTED,
    # The rate limit's 429 says when to come back; the lockout's (verify) does not: that challenge is done.
    responses=errors(422, 429, 503, headers={429: {"Retry-After": RETRY_AFTER}}),
    summary="Send a one-time sign-in code by email",
)
def request_code(body: OtpRequest, session: SessionDep, runtime: RuntimeDep) -> OtpChallengeOut:
    issued = otp.issue(session, body.email, utcnow())
    # Mail goes out before the commit: if delivery fails, no challenge counts against the limit.
    runtime.mailer.send(otp_message(body.email, issued.code, otp.CODE_TTL.seconds // 60))
    session.commit()
    return OtpChallengeOut(challenge_id=issued.challenge.id, expires_at=issued.challenge.expires_at)


@router.post(
    "/otp/verify",
    name="verify-code",
    responses=errors(401, 422, 429, 503),
    summary="Exchange a one-time code for a session token",
)
def verify_code(body: OtpVerify, session: SessionDep, runtime: RuntimeDep) -> SessionOut:
    now = utcnow()
    user = otp.verify(session, body.challenge_id, body.code, now)
    expires_at = now + timedelta(seconds=runtime.settings.session_ttl_seconds)
    minted = mint(session, user.id, TokenKind.session, now, expires_at=expires_at)
    session.commit()
    return SessionOut(
        access_token=minted.secret,
        expires_at=expires_at,
        user=UserOut.model_validate(user, from_attributes=True),
    )
