"""Every request schema against its table of named cases (tests/schema_tables.py), with no server: the
same rows the integration suite sends over HTTP, checked here in microseconds."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from app.schemas import MarkCreate, MarkPatch, OtpRequest, OtpVerify, TokenCreate, UserPatch
from tests.schema_tables import (
    MARK_CREATE,
    MARK_PATCH,
    OTP_REQUEST,
    OTP_VERIFY,
    TOKEN_CREATE,
    USER_PATCH,
    Json,
    Refused,
    Verdict,
)


def _check(schema: type[BaseModel], body: Json, verdict: Verdict) -> None:
    if not isinstance(verdict, Refused):
        parsed = schema.model_validate(body)
        assert parsed.model_fields_set == set(body), "a field sent was dropped"
        return
    with pytest.raises(ValidationError) as refusal:
        schema.model_validate(body)
    # Every error is about the named field (or, for a rule of the whole body, about no field): the row
    # is refused for the reason it names, not because its base body broke another rule.
    locations = [[str(part) for part in error["loc"]] for error in refusal.value.errors()]
    expected = [] if verdict.field is None else [verdict.field]
    assert all(loc[:1] == expected for loc in locations), f"expected errors on {expected}: {locations}"


@pytest.mark.parametrize(("body", "verdict"), MARK_CREATE)
def test_mark_create(body: Json, verdict: Verdict) -> None:
    _check(MarkCreate, body, verdict)


@pytest.mark.parametrize(("body", "verdict"), MARK_PATCH)
def test_mark_patch(body: Json, verdict: Verdict) -> None:
    _check(MarkPatch, body, verdict)


@pytest.mark.parametrize(("body", "verdict"), USER_PATCH)
def test_user_patch(body: Json, verdict: Verdict) -> None:
    _check(UserPatch, body, verdict)


@pytest.mark.parametrize(("body", "verdict"), TOKEN_CREATE)
def test_token_create(body: Json, verdict: Verdict) -> None:
    _check(TokenCreate, body, verdict)


@pytest.mark.parametrize(("body", "verdict"), OTP_REQUEST)
def test_otp_request(body: Json, verdict: Verdict) -> None:
    _check(OtpRequest, body, verdict)


@pytest.mark.parametrize(("body", "verdict"), OTP_VERIFY)
def test_otp_verify(body: Json, verdict: Verdict) -> None:
    _check(OtpVerify, body, verdict)
