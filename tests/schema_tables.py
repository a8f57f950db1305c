"""The validation rules of every request schema as data: one table per schema, one named case per rule.

A case is `pytest.param(body, verdict, id=...)`. The verdict is `ACCEPTED`, or `Refused(field)`: the
field an error's `loc` must name (`None` when the rule is about the body as a whole, such as "a url, a
note, or both"). Refused bodies start from a factory-built valid body (tests/factories.py) and break one
field, so a case fails for the reason it names and no other.

The same tables drive two suites: tests/unit/test_schema_tables.py checks each schema on its own (no
server, fast), tests/integration checks that the service answers 422 over HTTP and stores nothing. A new
rule is one row here, and both suites check it. MARKS_QUERY, the query of GET /v1/marks, is the route's
parameters rather than a schema class: only the integration suite runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pytest

from tests.factories import (
    MarkCreateFactory,
    MarkPatchFactory,
    OtpRequestFactory,
    OtpVerifyFactory,
    TokenCreateFactory,
    UserPatchFactory,
    valid,
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """The schema refuses the body; an error's `loc` names `field` (None: the body as a whole)."""

    field: str | None


ACCEPTED: Final = None
Verdict = Refused | None


def case(body: Json, verdict: Verdict, name: str) -> pytest.ParameterSet:
    return pytest.param(body, verdict, id=name)


def refused(table: list[pytest.ParameterSet]) -> list[pytest.ParameterSet]:
    """The table's refused cases, as `(body, field)` params under the same names."""
    return [
        pytest.param(p.values[0], p.values[1].field, id=p.id)
        for p in table
        if isinstance(p.values[1], Refused)
    ]


def accepted(table: list[pytest.ParameterSet]) -> list[pytest.ParameterSet]:
    """The table's accepted cases, as `(body,)` params under the same names."""
    return [pytest.param(p.values[0], id=p.id) for p in table if p.values[1] is ACCEPTED]


_mark = valid(MarkCreateFactory)
_patch = valid(MarkPatchFactory)
_token = valid(TokenCreateFactory)

# POST /v1/marks. Accepted bodies hold tags already lower-case and distinct, so the mark echoes them.
MARK_CREATE: Final = [
    case({"url": "http://example.org"}, ACCEPTED, "url-only"),
    case({"note": "only a note"}, ACCEPTED, "note-only"),
    case({"url": "HTTPS://EXAMPLE.ORG/x", "note": ""}, ACCEPTED, "upper-case-scheme"),
    case({"note": "n" * 10_000, "title": "t" * 300, "tags": ["x" * 40, "y"]}, ACCEPTED, "limits-at-edges"),
    case(_mark, ACCEPTED, "every-field"),
    case({}, Refused(None), "empty"),
    case({"title": "no url, no note"}, Refused(None), "title-only"),
    case({"url": None, "note": None}, Refused(None), "both-null"),
    case({**_mark, "url": "ftp://example.org/file"}, Refused("url"), "ftp"),
    case({**_mark, "url": "javascript:alert(1)"}, Refused("url"), "javascript"),
    case({**_mark, "url": "example.org/no-scheme"}, Refused("url"), "no-scheme"),
    case({**_mark, "url": "https://"}, Refused("url"), "no-host"),
    case({**_mark, "url": "https://exa mple.org/"}, Refused("url"), "space-in-host"),
    case({**_mark, "url": "https://example.org:99999/"}, Refused("url"), "bad-port"),
    case({**_mark, "url": "https://example.org:65535/"}, ACCEPTED, "highest-port"),
    case({**_mark, "url": "https://example.org:65536/"}, Refused("url"), "port-past-65535"),
    case({**_mark, "url": "https://xn--r8jz45g.jp/ü?q=1"}, ACCEPTED, "punycode-host-unicode-path"),
    case({**_mark, "url": "https://例え.jp/"}, Refused("url"), "unicode-host"),
    case({**_mark, "url": "http://[::1]/"}, Refused("url"), "ipv6-literal"),
    case({**_mark, "url": "https://example.org/\u00a0"}, Refused("url"), "no-break-space"),
    case({**_mark, "note": "n" * 10_001}, Refused("note"), "long-note"),
    case({**_mark, "title": "t" * 301}, Refused("title"), "long-title"),
    case({**_mark, "tags": [""]}, Refused("tags"), "empty-tag"),
    case({**_mark, "tags": ["x" * 41]}, Refused("tags"), "long-tag"),
    case({**_mark, "tags": [f"t{i}" for i in range(21)]}, Refused("tags"), "21-tags"),
    case({**_mark, "tags": "not-a-list"}, Refused("tags"), "tags-not-list"),
    # "İ" lower-cases to two code points: 40 of them make an 80-character tag.
    case({**_mark, "tags": ["İ" * 40]}, Refused("tags"), "tag-too-long-once-lower-cased"),
    # PostgreSQL text cannot hold U+0000 (tests/regression/test_text_fields_refuse_nul.py).
    case({**_mark, "note": "a\x00b"}, Refused("note"), "nul-in-note"),
    case({**_mark, "title": "a\x00b"}, Refused("title"), "nul-in-title"),
    case({**_mark, "tags": ["a\x00b"]}, Refused("tags"), "nul-in-tag"),
    # A tag of nothing visible (app/tags.py): whitespace, zero-width and other format characters.
    case({**_mark, "tags": ["   "]}, Refused("tags"), "whitespace-only-tag"),
    case({**_mark, "tags": ["\u200b"]}, Refused("tags"), "zero-width-space-tag"),
    case({**_mark, "tags": ["\u00a0\u2060\ufeff\t"]}, Refused("tags"), "invisible-mix-tag"),
    case({**_mark, "tags": ["\U000e0074\U000e0061\U000e0067"]}, Refused("tags"), "unicode-tag-characters"),
    case({**_mark, "tags": ["ok", "\u200d"]}, Refused("tags"), "one-invisible-among-others"),
    case({**_mark, "colour": "red"}, Refused("colour"), "unknown-field"),
]

# PATCH /v1/marks/{id}: any subset of fields; clearing url and note together is the route's rule (a
# 422 too, but it needs the stored mark), tested in tests/integration/test_marks.py.
MARK_PATCH: Final = [
    case({}, ACCEPTED, "nothing"),
    case({"title": None, "note": None, "tags": []}, ACCEPTED, "clear-optional-fields"),
    case(_patch, ACCEPTED, "every-field"),
    case({"url": "ftp://x.org"}, Refused("url"), "ftp"),
    case({"title": "t" * 301}, Refused("title"), "long-title"),
    case({"note": "n" * 10_001}, Refused("note"), "long-note"),
    case({"note": "a\x00b"}, Refused("note"), "nul-in-note"),
    case({"tags": None}, Refused("tags"), "null-tags"),
    case({"tags": [f"t{i}" for i in range(21)]}, Refused("tags"), "21-tags"),
    case({"tags": ["\u200b\u200c"]}, Refused("tags"), "zero-width-tag"),
    case({"id": "0b4e9e1c-3a1d-4f57-9d1e-2d3c4b5a6978"}, Refused("id"), "read-only-id"),
]

# PATCH /v1/me
USER_PATCH: Final = [
    case({"display_name": "A"}, ACCEPTED, "one-char"),
    case({"display_name": "Ada Lovelace"}, ACCEPTED, "with-space"),
    case({"display_name": "é" * 80}, ACCEPTED, "80-non-ascii"),
    case({"display_name": "  spaced  "}, ACCEPTED, "kept-as-sent"),
    case(valid(UserPatchFactory), ACCEPTED, "factory"),
    case({"display_name": ""}, Refused("display_name"), "empty"),
    case({"display_name": "x" * 81}, Refused("display_name"), "81-chars"),
    case({"display_name": None}, Refused("display_name"), "null"),
    case({}, Refused("display_name"), "missing"),
    case({"display_name": 5}, Refused("display_name"), "not-a-string"),
    case({"display_name": "a\x00b"}, Refused("display_name"), "nul-char"),
]

# POST /v1/tokens
TOKEN_CREATE: Final = [
    case({"name": "ci"}, ACCEPTED, "name-only"),
    case({"name": "x" * 100, "expires_in_days": 365}, ACCEPTED, "limits-at-edges"),
    case({"name": "x", "expires_in_days": 1}, ACCEPTED, "one-day"),
    case(_token, ACCEPTED, "factory"),
    case({}, Refused("name"), "no-name"),
    case({**_token, "name": ""}, Refused("name"), "empty-name"),
    case({**_token, "name": "x" * 101}, Refused("name"), "long-name"),
    case({**_token, "name": "a\x00b"}, Refused("name"), "nul-in-name"),
    case({**_token, "expires_in_days": 0}, Refused("expires_in_days"), "zero-days"),
    case({**_token, "expires_in_days": 366}, Refused("expires_in_days"), "too-many-days"),
    # Lax mode took `true` as 1 day: a boolean is not a number of days.
    case({**_token, "expires_in_days": True}, Refused("expires_in_days"), "boolean-days"),
    case({**_token, "expires_in_days": 1.5}, Refused("expires_in_days"), "fractional-days"),
    case({**_token, "scopes": ["all"]}, Refused("scopes"), "unknown-field"),
]

# POST /v1/auth/otp
OTP_REQUEST: Final = [
    case(valid(OtpRequestFactory), ACCEPTED, "factory"),
    case({"email": "Person@Example.TEST"}, ACCEPTED, "mixed-case"),
    case({"email": "not-an-email"}, Refused("email"), "no-at-sign"),
    case({}, Refused("email"), "missing"),
    case({"email": "a@b"}, Refused("email"), "too-short"),
    case({"email": 5}, Refused("email"), "not-a-string"),
    case({"email": "a.b+tag@sub.example.test"}, ACCEPTED, "dot-atom-and-subdomain"),
    case({"email": "a..b@example.test"}, Refused("email"), "double-dot"),
    case({"email": "pérson@example.test"}, Refused("email"), "non-ascii-local-part"),
    case({"email": "a@-example.test"}, Refused("email"), "label-starts-with-hyphen"),
    case({"email": "a@example.test", "name": "x"}, Refused("name"), "unknown-field"),
]

_verify = valid(OtpVerifyFactory)

# POST /v1/auth/otp/verify: the shape only (whether the code is right is the service's answer, 401).
OTP_VERIFY: Final = [
    case(_verify, ACCEPTED, "factory"),
    case({**_verify, "code": "12345"}, Refused("code"), "five-digits"),
    case({**_verify, "code": "1234567"}, Refused("code"), "seven-digits"),
    case({**_verify, "code": "12345a"}, Refused("code"), "not-digits"),
    case({**_verify, "challenge_id": "42"}, Refused("challenge_id"), "challenge-not-uuid"),
    case({"code": _verify["code"]}, Refused("challenge_id"), "no-challenge"),
]

# GET /v1/marks?... (the cursor's own rules, which answer `invalid_cursor`, are in test_marks_pagination)
MARKS_QUERY: Final = [
    case({"limit": 1}, ACCEPTED, "limit-1"),
    case({"limit": 100}, ACCEPTED, "limit-100"),
    case({"status": "failed"}, ACCEPTED, "status"),
    case({"tag": "x" * 40}, ACCEPTED, "tag-40-chars"),
    case({"limit": 0}, Refused("limit"), "limit-0"),
    case({"limit": 101}, Refused("limit"), "limit-101"),
    case({"limit": -1}, Refused("limit"), "limit-negative"),
    case({"limit": "ten"}, Refused("limit"), "limit-not-a-number"),
    # Digits 0-9 only (app/numerals.py): every other spelling pydantic's lax int would read is refused.
    case({"limit": "1.0"}, Refused("limit"), "limit-with-a-fraction"),
    case({"limit": "+5"}, Refused("limit"), "limit-with-a-sign"),
    case({"limit": " 5"}, Refused("limit"), "limit-with-a-space"),
    case({"limit": "1_0"}, Refused("limit"), "limit-with-an-underscore"),
    case({"limit": "\u0665"}, Refused("limit"), "limit-arabic-indic-digit"),
    case({"limit": "\u00b2"}, Refused("limit"), "limit-superscript-digit"),
    case({"limit": "9" * 5000}, Refused("limit"), "limit-5000-digits"),
    case({"limit": "007"}, ACCEPTED, "limit-leading-zeros"),
    case({"status": "done"}, Refused("status"), "status-unknown"),
    case({"tag": ""}, Refused("tag"), "tag-empty"),
    case({"tag": "x" * 41}, Refused("tag"), "tag-41-chars"),
    case({"cursor": "x" * 201}, Refused("cursor"), "cursor-201-chars"),
]
