"""Request and response bodies: what the OpenAPI document shows and the SDK is generated from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.models import IngestionStatus

MAX_TAGS = 20
MAX_TAG_LENGTH = 40


def _email(value: str) -> str:
    # test_environment admits the reserved `.test` domain that the lattice's disposable users live in.
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


def _http_url(value: str) -> str:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("a URL may not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: letting it through turns a bad request into a 500 at INSERT.
    if "\x00" in value:
        raise ValueError("may not contain the NUL character (U+0000)")
    return value


def _merge_tags(tags: list[str]) -> list[str]:
    merged = list(dict.fromkeys(tag.lower() for tag in tags))
    # Lower-casing can lengthen a tag ("İ" becomes "i̇", two code points): the stored tag is what must
    # fit, or it could never be used as a `?tag=` filter.
    if any(len(tag) > MAX_TAG_LENGTH for tag in merged):
        raise ValueError(f"each tag may have at most {MAX_TAG_LENGTH} characters once lower-cased")
    if len(merged) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} distinct tags")
    return merged


Email = Annotated[str, StringConstraints(min_length=3, max_length=320), AfterValidator(_email)]
HttpUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_http_url)]
Title = Annotated[str, StringConstraints(max_length=300), AfterValidator(_no_nul)]
Note = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_no_nul)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_LENGTH), AfterValidator(_no_nul)]
Tags = Annotated[list[Tag], Field(max_length=200), AfterValidator(_merge_tags)]
OtpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]

_strict = ConfigDict(extra="forbid")


# ---- auth
class OtpRequest(BaseModel):
    model_config = _strict
    email: Email


class OtpChallengeOut(BaseModel):
    challenge_id: uuid.UUID
    expires_at: datetime


class OtpVerify(BaseModel):
    model_config = _strict
    challenge_id: uuid.UUID
    code: OtpCode


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str | None
    created_at: datetime


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_at: datetime
    user: UserOut


# ---- users
class UserPatch(BaseModel):
    model_config = _strict
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(_no_nul)]


# ---- tokens
class TokenCreate(BaseModel):
    model_config = _strict
    name: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_nul)]
    expires_in_days: Annotated[int, Field(ge=1, le=365)] | None = None


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    token: str = Field(description="The secret, starting `rt_`; shown only in this response")
    created_at: datetime
    expires_at: datetime | None


# ---- marks
class MarkCreate(BaseModel):
    model_config = _strict
    url: HttpUrl | None = None
    title: Title | None = None
    note: Note | None = None
    tags: Tags = Field(default_factory=list)

    @model_validator(mode="after")
    def _url_or_note(self) -> Self:
        if self.url is None and self.note is None:
            raise ValueError("a mark needs a url, a note, or both")
        return self


class MarkPatch(BaseModel):
    """Only the fields present are changed; an explicit null clears a field."""

    model_config = _strict
    url: HttpUrl | None = None
    title: Title | None = None
    note: Note | None = None
    tags: Tags | None = None

    @model_validator(mode="after")
    def _tags_not_null(self) -> Self:
        if "tags" in self.model_fields_set and self.tags is None:
            raise ValueError("tags may be an empty list, not null")
        return self


class AttachmentOut(BaseModel):
    content_type: str
    size: int
    sha256: str


class IngestionResult(BaseModel):
    normalized_url: str | None
    word_count: int
    title: str | None


class IngestionOut(BaseModel):
    status: IngestionStatus
    version: int
    attempts: int
    error: str | None
    ingested_at: datetime | None
    result: IngestionResult | None


class MarkOut(BaseModel):
    id: uuid.UUID
    url: str | None
    title: str | None
    note: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    attachment: AttachmentOut | None
    ingestion: IngestionOut


class MarkPage(BaseModel):
    items: list[MarkOut]
    next_cursor: str | None


# ---- health
class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
