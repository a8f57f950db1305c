"""Odd values for anything a service parses: a Hypothesis strategy of strings a parser may not expect.

- arbitrary text (any Unicode but surrogates);
- "numbers" that are not: Unicode digits other than ASCII (`str.isdigit()` is true for superscript two
  and Arabic-Indic one),
  signs, decimal points, exponents, huge magnitudes, blanks;
- those dropped into the shapes parsed values take (`bytes=<a>-<b>`, `"<tag>"`, `Bearer <x>`, ...);
- opaque tokens holding JSON of the wrong type: base64url of a list of plausible strings (timestamps,
  uuids, digits) with one item a number, list, object, boolean or null (a cursor whose timestamp is
  fine and whose id is `true`), or of any JSON at all.

The same strategy goes to every input of every operation: which shape a parser expects is not assumed.
Before it, `ODD_EXAMPLES` (and for an input the document calls a plain string, `opaque_examples()`)
are tried on every input: a few random draws would rarely land on one of them.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC
from typing import Any

from hypothesis import strategies as st

_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)

# Digits a lax check (`isdigit`, `isnumeric`, `int()`) takes for ASCII ones: superscripts, Arabic-Indic,
# Devanagari, full-width, fractions; and what else a number's text may carry.
_UNICODE_DIGITS = "²³¹⁰⁴⁹₀₉½⅓①" + "\u0660\u0661\u0662\u06f1\u06f2\u0966\u0967\uff10\uff11\uff12"
_NUMBER_BITS = "0123456789" + _UNICODE_DIGITS + "+-.eE_ x"
NUMBERISH = st.one_of(
    st.text(st.sampled_from(_NUMBER_BITS), min_size=1, max_size=8),
    st.sampled_from(
        ["1.0", "-1", "0", "1e3", "99999999999999999999999", "-0", "", " ", "NaN", "inf", "0x10"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

SHAPES = (
    "{}",
    "bytes={}-{}",
    "bytes={}-",
    "bytes=-{}",
    "bytes={}-{},{}-{}",
    '"{}"',
    'W/"{}"',
    '"{}", "{}"',
    "Bearer {}",
    "{}/{}",
)


@st.composite
def _shaped(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(SHAPES))
    filler = st.one_of(NUMBERISH, _TEXT)
    return shape.format(*(draw(filler) for _ in range(shape.count("{}"))))


_WRONG_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=6,
)


_PLAUSIBLE = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.uuids().map(str),
    st.integers(min_value=0).map(str),
)


@st.composite
def _one_wrong(draw: st.DrawFn) -> list[Any]:
    """Plausible strings, one of them replaced by JSON of another type: each field's own check is met."""
    items: list[Any] = draw(st.lists(_PLAUSIBLE, min_size=1, max_size=3))
    items[draw(st.integers(0, len(items) - 1))] = draw(_WRONG_JSON.filter(lambda v: not isinstance(v, str)))
    return items


@st.composite
def _opaque(draw: st.DrawFn) -> str:
    """base64url of JSON, padded or not: plausible items with one of the wrong type, or anything."""
    value = draw(st.one_of(_one_wrong(), _one_wrong(), _WRONG_JSON))
    raw = base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
    return raw if draw(st.booleans()) else raw.rstrip("=")


ODD_VALUES: st.SearchStrategy[str] = st.one_of(_TEXT, NUMBERISH, _shaped(), _opaque(), _opaque())


# Values every input is tried with before the random ones: a few draws would rarely land on them.
# A superscript two is a digit to `str.isdigit()` and not to `int()`; Arabic-Indic and full-width
# digits are decimal to `int()` but not to a `[0-9]` pattern.
ODD_EXAMPLES: tuple[str, ...] = (
    "²",
    "\u0661\u0662",  # Arabic-Indic 12
    "\uff11\uff12",  # full-width 12
    "①",
    "1.0",
    "-1",
    "1e3",
    "99999999999999999999",
    "",
    " ",
    "bytes=²-",
    "bytes=0-²",
    "bytes=-²",
    "bytes=\u0661-\u0662",
    '"²"',
    'W/"²"',
    "Bearer ²",
)

_WRONG_TYPED: tuple[Any, ...] = (7, 1.5, True, None, [], {"a": 1})
_TOKEN_SHAPES = (
    ["2026-01-01T00:00:00+00:00", "00000000-0000-4000-8000-000000000000"],
    ["00000000-0000-4000-8000-000000000000", "2026-01-01T00:00:00+00:00"],
    ["2026-01-01T00:00:00+00:00"],
    ["2026-01-01T00:00:00+00:00", "00000000-0000-4000-8000-000000000000", "1"],
)


def opaque_examples() -> list[str]:
    """base64url tokens of plausible fields with one field of the wrong type, every field in turn, and
    of each wrong-typed value alone: for an input the document calls a plain string (an opaque token)."""
    found: list[Any] = []
    for shape in _TOKEN_SHAPES:
        for position in range(len(shape)):
            for wrong in _WRONG_TYPED:
                items: list[Any] = list(shape)
                items[position] = wrong
                found.append(items)
    found += list(_WRONG_TYPED)
    return [base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=") for v in found]
