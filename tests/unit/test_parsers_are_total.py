"""Every reader of client text is total: over any input it gives a value or its own refusal, nothing else.

One property per parser, over arbitrary text, Unicode digits (which `str.isdigit()` and `int()` take) and,
inside the opaque cursor, JSON of every shape. A parser that raised anything else was a 500 (issue 26:
`Range: bytes=²-`, a cursor whose id was a number). Pure functions: no server, no database.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from app import cursor
from app.auth.hashing import digest
from app.numerals import CEILING, whole_number
from app.problems import Problem
from app.ranges import ByteRange, Unsatisfiable, etag_matches, if_range_holds, parse_range
from app.schemas import MAX_TAG_LENGTH, MarkCreate, QueryDigits
from app.tags import normal_form

# Characters that Python calls digits or numbers but the grammars do not: superscripts, Arabic-Indic,
# fullwidth, Devanagari, circled, Roman numerals, and the separators int() forgives.
UNICODE_DIGITS = (
    "\u00b2\u00b3\u00b9\u2070\u2074\u0661\u0662\u0663\u0660\u06f1\u06f2\uff10\uff11\uff19"
    "\u0968\u0969\u2460\u216b\U0001d7d8_ +-.\t\n\x0b\x0c\r"
)
numeric_text = st.text(alphabet=st.sampled_from("0123456789" + UNICODE_DIGITS), max_size=30)
any_text = st.text(max_size=60)
texts = st.one_of(any_text, numeric_text)

_ETAG = '"' + "a" * 64 + '"'


@given(texts)
@example("²")
@example("9" * 5000)
def test_whole_number_reads_ascii_digits_only(text: str) -> None:
    number = whole_number(text)
    if re.fullmatch(r"[0-9]+", text, flags=re.ASCII):
        significant = text.lstrip("0") or "0"  # int() of 5000 digits is itself a ValueError
        assert number == (CEILING if len(significant) > len(str(CEILING)) else min(int(significant), CEILING))
    else:
        assert number is None


def _range_headers() -> st.SearchStrategy[str]:
    position = st.one_of(numeric_text, st.integers(0, 2000).map(str), st.just("9" * 5000))
    spec = st.builds(lambda a, b: f"{a}-{b}", position, position)
    return st.one_of(
        any_text,
        st.builds(
            lambda unit, s: f"{unit}={s}", st.sampled_from(["bytes", "BYTES", " bytes ", "items"]), spec
        ),
    )


@given(_range_headers(), st.integers(0, 1500))
@example("bytes=²-", 100)
@example("bytes=-²", 100)
@example("bytes=0-" + "9" * 5000, 100)
def test_parse_range_is_a_range_inside_the_body_none_or_unsatisfiable(header: str, size: int) -> None:
    try:
        wanted = parse_range(header, size)
    except Unsatisfiable:
        return
    if wanted is not None:
        assert isinstance(wanted, ByteRange)
        assert 0 <= wanted.start <= wanted.end < size
        # Only ASCII digits name a position: a range was read, so the header had no other digits.
        assert not any(c in header for c in UNICODE_DIGITS if c.isdigit() or c.isnumeric())


@given(any_text)
@example(",,,W/,*")
def test_entity_tag_checks_answer_a_boolean(header: str) -> None:
    assert isinstance(etag_matches(header, _ETAG), bool)
    assert isinstance(if_range_holds(header, _ETAG), bool)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
iso_times = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))])).map(
    datetime.isoformat
)
uuid_texts = st.uuids().map(str)
# Shaped like a cursor: two items, each right or wrong in type, and now and then an item too many.
wrong_or_right_ids = st.one_of(uuid_texts, uuid_texts.map(lambda u: "{" + u + "}"), json_values)
pairs = st.tuples(st.one_of(iso_times, json_values), wrong_or_right_ids).map(list)
cursor_shaped = st.one_of(pairs, st.builds(lambda pair, extra: [*pair, extra], pairs, json_values))


def _json_b64(value: object) -> str:
    return _b64(json.dumps(value).encode())


cursors = st.one_of(
    pairs.map(_json_b64),  # most draws: the shape an issued cursor has, which the decoder reads deepest
    cursor_shaped.map(_json_b64),
    json_values.map(_json_b64),
    st.binary(max_size=120).map(_b64),
    any_text,
)


@given(cursors)
@example(_b64(b'["2026-01-01T00:00:00+00:00",1]'))
@example(_b64(b'["2026-01-01T00:00:00+00:00",{}]'))
@example(_b64(b'["2026-01-01T00:00:00+00:00",[]]'))
@example(_b64(b'["2026-01-01T00:00:00+00:00",true]'))
@example(_b64(b"[" * 150))
def test_a_cursor_is_a_position_this_service_issued_or_invalid_cursor(text: str) -> None:
    try:
        created_at, mark_id = cursor.decode(text)
    except Problem as problem:
        refusal = (problem.status, problem.code)
    else:
        assert cursor.encode(created_at, mark_id) == text
        return
    assert refusal == (422, "invalid_cursor")


@given(st.datetimes(timezones=st.just(UTC)), st.uuids())
def test_every_issued_cursor_reads_back(created_at: datetime, mark_id: uuid.UUID) -> None:
    assert cursor.decode(cursor.encode(created_at, mark_id)) == (created_at, mark_id)


_limit = TypeAdapter(Annotated[int, Field(ge=1, le=100), QueryDigits])


@given(texts)
@example("1.0")
@example("+5")
@example(" 5")
@example("1_0")
@example("\u0665")
def test_an_integer_query_parameter_is_ascii_digits_within_its_bounds(text: str) -> None:
    try:
        limit = _limit.validate_python(text)
    except ValidationError:
        number = whole_number(text)
        assert number is None or not 1 <= number <= 100
        return
    assert re.fullmatch(r"[0-9]+", text, flags=re.ASCII)
    assert limit == int(text)


tag_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(" \t\u00a0\u200b\u200d\u2060\ufeff\U000e0020\u0301İé"),
    ),
    max_size=45,
)


@given(tag_text)
@example("Cafe\u0301")
@example(" \u200b ")
def test_normal_form_is_idempotent_and_trimmed(tag: str) -> None:
    once = normal_form(tag)
    assert normal_form(once) == once
    assert once == once.strip() or not once.strip()


@given(st.lists(tag_text, max_size=5))
@settings(max_examples=300)
@example(["Café", "Cafe\u0301"])
@example(["\u200b"])
@example(["   "])
def test_stored_tags_are_visible_normal_and_fit(tags: list[str]) -> None:
    try:
        mark = MarkCreate.model_validate({"note": "n", "tags": tags})
    except ValidationError as exc:
        fields = {error["loc"][0] for error in exc.errors()}
    else:
        assert len(mark.tags) == len(set(mark.tags))
        for tag in mark.tags:
            assert tag
            assert normal_form(tag) == tag
            assert len(tag) <= MAX_TAG_LENGTH
        return
    assert fields == {"tags"}


@pytest.mark.parametrize(
    ("tags", "stored"),
    [
        (["Café", "Cafe\u0301"], ["café"]),
        ([" read ", "read\u200b", "READ"], ["read"]),
        (["👩\u200d💻"], ["👩\u200d💻"]),  # a joiner inside a tag is part of it
    ],
    ids=["nfc-and-nfd", "surrounding-invisibles", "inner-joiner"],
)
def test_tags_merge_in_their_normal_form(tags: list[str], stored: list[str]) -> None:
    assert MarkCreate.model_validate({"note": "n", "tags": tags}).tags == stored


_path_id = TypeAdapter(uuid.UUID)  # how FastAPI reads a `{mark_id}` or `{token_id}` path parameter
uuid_like = st.one_of(
    any_text,
    st.uuids().map(str),
    st.builds(
        lambda u, at, c: u[:at] + c + u[at + 1 :],
        st.uuids().map(str),
        st.integers(0, 35),
        st.sampled_from(UNICODE_DIGITS + "\uff41g"),
    ),
)


@given(uuid_like)
def test_a_path_id_is_a_uuid_of_ascii_hex_or_refused(text: str) -> None:
    try:
        parsed = _path_id.validate_python(text)
    except ValidationError:
        return
    assert text.isascii()
    assert parsed.hex == re.sub(r"[^0-9a-f]", "", text.lower().removeprefix("urn:uuid:"))


@given(st.text(alphabet=st.characters(max_codepoint=0xFF)))
def test_a_bearer_secret_of_any_header_text_has_a_digest(secret: str) -> None:
    # Starlette decodes header bytes as Latin-1: every such text reaches the token lookup.
    assert re.fullmatch(r"[0-9a-f]{64}", digest(secret))
