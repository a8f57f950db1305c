"""Values a JSON Schema (as an OpenAPI 3.1 document writes it) admits, one keyword at a time.

Two things the contract suite needs from a schema, both decided by the schema alone:

- `values(schema)`: a Hypothesis strategy, built keyword by keyword (type, const, enum, anyOf, min/max
  length, pattern, format, bounds, items, properties). It is an order of magnitude cheaper per value than
  translating the whole schema through regular expressions (hypothesis-jsonschema), which is what lets a
  run send thousands of cases; a value it draws is still checked against the schema by the caller.
- `boundaries(schema)`: for every constraint, the values at it and one past it (each min/max length,
  each bound, each enum member and a non-member, maxItems and one more), each labelled with what it
  probes. Whether a value is valid is then asked of the schema (`conforms`), not assumed.

`$ref`s must be resolved first (tools.lattice.chain.document.resolve). `not` is left to the caller's filter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator, oas31_format_checker

Schema = Mapping[str, Any]

# Formats with a strategy of their own; any other format is generated as plain text of its bounds.
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
}

# A pattern that only forbids characters (`^[^...]*$`) is an alphabet, not a regular expression to
# generate from: text over the rest of Unicode is drawn directly.
_EXCLUDING = re.compile(r"^\^\[\^(?P<chars>[^\]]+)\]\*\$$")
_TEXT = st.characters(codec="utf-8")  # no lone surrogates: they cannot be sent as JSON in UTF-8
_BIG = 2**31
DRAWN_LENGTH = 12
DRAWN_ITEMS = 4


def _excluded_characters(pattern: str) -> str | None:
    match = _EXCLUDING.match(pattern)
    if match is None:
        return None
    chars = match.group("chars").encode().decode("unicode_escape")
    return None if "-" in chars or "\\" in chars else chars


def _strings(schema: Schema) -> st.SearchStrategy[str]:
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    # Every character is one of Hypothesis' choices (tens of microseconds each): draw short strings, and
    # reach the length bounds in `boundaries`.
    size = min(int(high), max(low, DRAWN_LENGTH)) if high is not None else max(low, DRAWN_LENGTH)
    pattern = schema.get("pattern")
    if pattern is None:
        return st.text(_TEXT, min_size=low, max_size=size)
    excluded = _excluded_characters(pattern)
    if excluded is not None:
        alphabet = st.characters(codec="utf-8", exclude_characters=excluded)
        return st.text(alphabet, min_size=low, max_size=size)
    bounded: st.SearchStrategy[str] = st.from_regex(str(pattern), fullmatch=True)
    return bounded.filter(lambda s: low <= len(s) <= (int(high) if high is not None else len(s)))


def _numbers(schema: Schema, integer: bool) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + (1 if integer else 0)
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - (1 if integer else 0)
    if integer:
        return st.integers(
            min_value=math.ceil(low) if low is not None else -_BIG,
            max_value=math.floor(high) if high is not None else _BIG,
        )
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def _objects(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: values(sub) for name, sub in properties.items() if name in required},
        optional={name: values(sub) for name, sub in properties.items() if name not in required},
    )


def values(schema: Schema) -> st.SearchStrategy[Any]:
    """A strategy for values of `schema`, keyword by keyword."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([values(branch) for branch in schema.get("anyOf", schema.get("oneOf", []))])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}) for k in kind])
    builders: dict[str | None, Callable[[], st.SearchStrategy[Any]]] = {
        "null": st.none,
        "boolean": st.booleans,
        "integer": lambda: _numbers(schema, integer=True),
        "number": lambda: _numbers(schema, integer=False),
        "string": lambda: _strings(schema),
        "array": lambda: st.lists(
            values(schema.get("items", {})),
            min_size=int(schema.get("minItems", 0)),
            max_size=min(int(schema.get("maxItems", DRAWN_ITEMS)), DRAWN_ITEMS),
        ),
        "object": lambda: _objects(schema),
    }
    if kind in builders:
        return builders[kind]()
    if "properties" in schema:
        return _objects(schema)
    return st.none() | st.booleans() | st.integers() | st.text(_TEXT, max_size=16)


# ---- at each constraint, and one past it


@dataclass(frozen=True)
class Boundary:
    probe: str  # what it tests, e.g. "maxLength 300 + 1"
    value: Any


def conforms(value: Any, schema: Schema) -> bool:
    """Whether the schema admits `value`, in OpenAPI 3.1's dialect (the validator openapi-core uses)."""
    return bool(OAS31Validator(dict(schema), format_checker=oas31_format_checker).is_valid(value))


def _fill(schema: Schema, length: int, salt: str, *, matching: bool = True) -> str | None:
    """A string of exactly `length` characters that matches the schema's pattern (if `matching`: a value
    past a length bound is invalid whatever its characters), if one is found."""
    pattern = schema.get("pattern") if matching else None
    filler = (salt * (length // max(len(salt), 1) + 1))[:length]
    candidates = [
        filler,
        "0" * length,
        "https://a.test/" + filler[: max(length - 15, 0)],
        filler[: max(length - 13, 0)] + "@example.test",
    ]
    for text in candidates:
        if len(text) == length and (pattern is None or re.search(pattern, text)):
            return text
    return None


# A well-formed value of each format, and one off by a character.
FORMAT_PROBES = {
    "uuid": ("00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-00000000000g"),
    "date-time": ("2026-01-01T00:00:00+00:00", "2026-13-01T00:00:00+00:00"),
}


def _string_boundaries(schema: Schema, salt: str) -> Iterator[Boundary]:
    if schema.get("format") in FORMAT_PROBES:
        good, bad = FORMAT_PROBES[schema["format"]]
        yield Boundary(f"format {schema['format']}", good)
        yield Boundary(f"format {schema['format']}: malformed", bad)
    lengths: list[tuple[str, int, bool]] = []  # (probe, length, at the bound rather than past it)
    if "minLength" in schema:
        low = int(schema["minLength"])
        lengths += [(f"minLength {low}", low, True)]
        lengths += [(f"minLength {low} - 1", low - 1, False)] if low > 0 else []
    if "maxLength" in schema:
        high = int(schema["maxLength"])
        lengths += [(f"maxLength {high}", high, True), (f"maxLength {high} + 1", high + 1, False)]
    for probe, length, at_bound in lengths:
        text = _fill(schema, length, salt, matching=at_bound)
        if text is not None:
            yield Boundary(probe, text)
    if "pattern" in schema and not lengths:  # a shape, not a length: its shortest filler, and one more
        shortest = next(filter(None, (_fill(schema, n, salt) for n in range(1, 65))), None)
        if shortest is not None:
            yield Boundary("pattern", shortest)
            if not re.search(schema["pattern"], shortest + "x"):
                yield Boundary("pattern: one character more", shortest + "x")
    if "pattern" in schema and (excluded := _excluded_characters(schema["pattern"])):
        yield Boundary("pattern: a forbidden character", "a" + excluded[0])


def _number_boundaries(schema: Schema) -> Iterator[Boundary]:
    step = 1 if schema.get("type") == "integer" else 0.5
    for key, sign in (("minimum", -1), ("maximum", 1)):
        if key in schema:
            bound = int(schema[key]) if step == 1 else schema[key]
            yield Boundary(f"{key} {bound}", bound)
            yield Boundary(f"{key} {bound} {'+' if sign > 0 else '-'} {step}", bound + sign * step)


def boundaries(schema: Schema, salt: str = "b") -> list[Boundary]:
    """Values at and one past every constraint of `schema` (its anyOf branches each in turn).

    `salt` varies the filler characters, for fields that must be unique per case (an email)."""
    found: list[Boundary] = []
    branches = schema.get("anyOf", [schema])
    for branch in branches:
        kind = branch.get("type")
        if kind == "null":
            found.append(Boundary("null", None))
        elif "enum" in branch:
            found += [Boundary(f"enum {member!r}", member) for member in branch["enum"]]
            found.append(Boundary("enum: not a member", f"{branch['enum'][0]}-not-a-member"))
        elif kind == "string":
            found += _string_boundaries(branch, salt)
        elif kind in ("integer", "number"):
            found += _number_boundaries(branch)
        elif kind == "array":
            items = branch.get("items", {})
            inner = boundaries(items, salt)
            # maxItems is probed with one valid item repeated (a list may repeat its items here).
            first = next((b.value for b in inner if conforms(b.value, items)), None)
            if "maxItems" in branch and first is not None:
                high = int(branch["maxItems"])
                found += [
                    Boundary(f"maxItems {high}", [first] * high),
                    Boundary(f"maxItems {high} + 1", [first] * (high + 1)),
                ]
            found += [Boundary(f"items: {b.probe}", [b.value]) for b in inner]
    return found


def _first_valid(schema: Schema, salt: str) -> Any:
    """The first value at a bound that the schema admits, null last."""
    found = [b.value for b in boundaries(schema, salt) if conforms(b.value, schema)]
    found.sort(key=lambda value: value is None)
    if not found:
        raise ValueError(f"no valid boundary value for {dict(schema)}")
    return found[0]


def minimal(schema: Schema, salt: str = "b") -> dict[str, Any]:
    """The smallest valid object: each required property at its first valid boundary value, plus what a
    `not` rules out of the empty object (e.g. a mark needs its url or its note)."""
    properties: Mapping[str, Schema] = schema.get("properties", {})
    body = {prop: _first_valid(properties[prop], salt) for prop in schema.get("required", [])}
    forbidden = schema.get("not")
    if forbidden is not None and conforms(body, forbidden):
        last = sorted(forbidden.get("properties", {}))[-1]
        body[last] = _first_valid(properties[last], salt)
    if not conforms(body, schema):
        raise ValueError(f"the smallest body {body} does not conform to its own schema")
    return body


def complete(schema: Schema, salt: str = "b") -> dict[str, Any]:
    """A valid object with every property set (not null), each at its first valid boundary value: an
    object any one later change can be made to (a mark with both its url and its note)."""
    body = minimal(schema, salt)
    for prop, sub in schema.get("properties", {}).items():
        if prop not in body:
            body[prop] = _first_valid(sub, salt)
    if not conforms(body, schema):
        raise ValueError(f"the complete body {body} does not conform to its own schema")
    return body
