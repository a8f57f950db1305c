"""Values and boundaries from a JSON Schema, keyword by keyword (tools/lattice/engines/schemavalues.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.lattice.chain.document import load_committed
from tools.lattice.engines.contract import component_schema
from tools.lattice.engines.schemavalues import Boundary, boundaries, complete, conforms, minimal, values

NO_NUL = "^[^\\x00]*$"
NAME = {"type": "string", "minLength": 1, "maxLength": 5, "pattern": NO_NUL}
DAYS = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 365}, {"type": "null"}]}
TAGS = {"type": "array", "maxItems": 3, "items": NAME}
INPUTS = [
    name
    for name, schema in load_committed()["components"]["schemas"].items()
    if "additionalProperties" in schema
]


def _probes(found: list[Boundary]) -> dict[str, Any]:
    return {b.probe: b.value for b in found}


def test_a_string_is_probed_at_and_past_each_length_bound_and_with_a_forbidden_character() -> None:
    assert _probes(boundaries(NAME)) == {
        "minLength 1": "b",
        "minLength 1 - 1": "",
        "maxLength 5": "bbbbb",
        "maxLength 5 + 1": "bbbbbb",
        "pattern: a forbidden character": "a\x00",
    }


def test_an_integer_is_probed_at_and_past_each_bound_and_its_null_branch() -> None:
    assert _probes(boundaries(DAYS)) == {
        "minimum 1": 1,
        "minimum 1 - 1": 0,
        "maximum 365": 365,
        "maximum 365 + 1": 366,
        "null": None,
    }


def test_an_array_is_probed_at_and_past_max_items_and_through_its_items() -> None:
    found = _probes(boundaries(TAGS))
    assert found["maxItems 3"] == ["b"] * 3
    assert found["maxItems 3 + 1"] == ["b"] * 4
    assert found["items: maxLength 5 + 1"] == ["bbbbbb"]


def test_an_enum_is_probed_with_each_member_and_a_non_member() -> None:
    found = boundaries({"enum": ["a", "b"], "type": "string"})
    assert [b.value for b in found] == ["a", "b", "a-not-a-member"]
    assert [conforms(b.value, {"enum": ["a", "b"]}) for b in found] == [True, True, False]


def test_a_value_at_a_bound_matches_the_pattern_and_one_past_it_need_not() -> None:
    url = {"type": "string", "minLength": 1, "maxLength": 30, "pattern": "^https?://[a-z.]+/[a-z]*$"}
    found = _probes(boundaries(url, salt="q"))
    assert found["maxLength 30"].startswith("https://a.test/")
    assert len(found["maxLength 30"]) == 30
    assert "minLength 1" not in found  # no one-character URL exists: the probe is left out, not faked
    assert found["minLength 1 - 1"] == ""
    assert len(found["maxLength 30 + 1"]) == 31


def test_the_salt_makes_values_differ_between_cases() -> None:
    assert boundaries(NAME, salt="x") != boundaries(NAME, salt="y")


@pytest.mark.parametrize("component", INPUTS)
def test_minimal_and_complete_bodies_of_each_input_conform_to_the_document(component: str) -> None:
    schema = component_schema(component)
    smallest, full = minimal(schema), complete(schema)
    assert conforms(smallest, schema)
    assert conforms(full, schema)
    assert set(schema.get("required", [])) <= set(smallest)
    assert set(full) == set(schema["properties"])


def test_a_not_rule_is_kept_by_the_minimal_body() -> None:
    schema = component_schema("MarkCreate")
    assert conforms({}, schema["not"])
    assert not conforms({}, schema)
    assert minimal(schema).get("url") or minimal(schema).get("note")


@pytest.mark.parametrize("component", INPUTS)
def test_drawn_values_conform_to_their_schema(component: str) -> None:
    schema = {k: v for k, v in component_schema(component).items() if k != "not"}

    @settings(max_examples=60, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def drawn(data: st.DataObject) -> None:
        for prop, sub in schema["properties"].items():
            value = data.draw(values(sub), label=prop)
            assert conforms(value, sub), f"{component}.{prop}: {value!r}"

    drawn()
