"""Request and response bodies: what the OpenAPI document shows and the SDK is generated from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.models import IngestionStatus
from app.numerals import whole_number
from app.tags import VISIBLE_TAG_PATTERN, normal_form

MAX_TAGS = 20
MAX_TAG_LENGTH = 40


# The rules below are regular expressions so that the OpenAPI document states them exactly (as
# `pattern`) and every client and generator sees the rule the service applies: nothing is refused that
# the document admits. They are ECMA-262, Python and Rust-regex compatible (no lookarounds).

# An email address: a dot-atom local part (RFC 5322 atext), `@`, two or more DNS labels (letters, digits,
# inner hyphens; an internationalised domain in its punycode form). Stored lower-cased.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATEXT}+(\.{_ATEXT}+)*@{_LABEL}(\.{_LABEL})+$"

# An absolute http(s) URL: scheme (any case), optional userinfo and an ASCII host (RFC 3986 userinfo
# and reg-name characters: an internationalised host in its punycode form; no IPv6 literal), an optional
# port 0-65535, then anything but whitespace and control characters.
_NOT_TEXT = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9._~!$&'()*+,;=%:-]*@)?[A-Za-z0-9._~!$&'()*+,;=%-]+(:{_PORT}?)?"
    rf"([/?#][^{_NOT_TEXT}]*)?$"
)


def _lower(value: str) -> str:
    return value.lower()


def _whole_number(value: object) -> object:
    # JSON Schema's `integer`, exactly: 227 and 227.0 are integers; `true` (lax mode took it as 1),
    # 1.5 and "5" are not.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _digits_only(value: object) -> object:
    # A number in a query string is its decimal digits, as the document's `integer` is written in a URL:
    # not "1.0", "+5", " 5", "1_0" or Arabic-Indic digits (all of which pydantic's lax int reads).
    # Past the digits, the field's own bounds decide.
    if isinstance(value, str):
        number = whole_number(value)
        if number is None:
            raise ValueError("must be a whole number written with the digits 0-9 only")
        return number
    return value


QueryDigits = BeforeValidator(_digits_only)
"""For an integer query parameter: `Annotated[int, Query(...), QueryDigits]`."""


# PostgreSQL text cannot hold U+0000: letting it through turns a bad request into a 500 at INSERT.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _merge_tags(tags: list[str]) -> list[str]:
    merged = list(dict.fromkeys(normal_form(tag) for tag in tags))
    # Lower-casing can lengthen a tag ("İ" becomes "i̇", two code points): the stored tag is what must
    # fit, or it could never be used as a `?tag=` filter.
    if any(len(tag) > MAX_TAG_LENGTH for tag in merged):
        raise ValueError(f"each tag may have at most {MAX_TAG_LENGTH} characters once normalised")
    if len(merged) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} distinct tags")
    return merged


Email = Annotated[
    str, StringConstraints(min_length=3, max_length=320, pattern=EMAIL_PATTERN), AfterValidator(_lower)
]
HttpUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=URL_PATTERN)]
Title = Annotated[str, StringConstraints(max_length=300, pattern=NO_NUL_PATTERN)]
Note = Annotated[str, StringConstraints(max_length=10_000, pattern=NO_NUL_PATTERN)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_LENGTH, pattern=VISIBLE_TAG_PATTERN)]
Tags = Annotated[
    list[Tag],
    Field(
        max_length=200,
        description=f"Stored in one normal form (surrounding whitespace and format characters removed, "
        f"lower-cased, Unicode NFC) and merged (duplicates dropped): at most {MAX_TAGS} distinct tags, "
        f"each at most {MAX_TAG_LENGTH} characters once normalised. A tag of only whitespace, control "
        f"or format characters is refused.",
    ),
    AfterValidator(_merge_tags),
]
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
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NO_NUL_PATTERN)]


# ---- tokens
class TokenCreate(BaseModel):
    model_config = _strict
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)]
    # The bounds before the validator, or pydantic writes them into the document as unknown keywords.
    expires_in_days: Annotated[int, Field(ge=1, le=365), BeforeValidator(_whole_number)] | None = None


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
    # The url-or-note rule, stated in the document too: one of the two present and not null.
    model_config = ConfigDict(
        extra="forbid",
        # `properties` checks only the keys present, so this matches a body whose url and note are each
        # absent or null: exactly what is refused. (An `anyOf` of two `required` branches says the same,
        # but openapi-python-client then splits MarkCreate into two models that lose the other fields.)
        json_schema_extra={"not": {"properties": {"url": {"type": "null"}, "note": {"type": "null"}}}},
    )
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
    """Only the fields present are changed; an explicit null clears a field. A mark keeps a url or a note:
    a patch that would leave it with neither (clearing the url of a mark that has no note, the note of one
    that has no url, or both at once) is a 422 `url_or_note_required`. The stored mark decides, so no
    schema keyword states it."""

    model_config = _strict
    url: HttpUrl | None = None
    title: Title | None = None
    note: Note | None = None
    # May be left out, may not be null (an empty list clears the tags): the schema is the array alone.
    tags: Tags = None  # type: ignore[assignment]  # absent means unchanged; a default is not validated


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
