"""Hypothesis strategies for the contract suite, built from the same Pydantic models the app validates with.

Valid bodies come from `Model.model_json_schema()`, keyword by keyword (tools.lattice.engines.schemavalues),
with the few values a random draw rarely hits (an http(s) URL, an email unique to its example) drawn from
SEMANTIC_FIELDS, then filtered by the model itself. Invalid input is a valid one broken in one way.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tools.lattice.chain.agreement import component_models
from tools.lattice.chain.document import load_committed, resolve
from tools.lattice.engines.contract import Operation
from tools.lattice.engines.schemavalues import conforms, values

# Few choices per URL (each costs Hypothesis' engine a draw); long and odd URLs are the boundary tests'.
_HOSTS = st.sampled_from(["a.test", "retrace.example", "x-1.sub.example.com", "127.0.0.1", "EXAMPLE.COM"])
_PATH = st.text(st.sampled_from("abz09._~%!$&'()*+,;=:@-/"), max_size=8).map(lambda p: "/" + p if p else p)
_QUERY = st.sampled_from(["", "?q=1", "?a=b&c=%20", "#frag"])
HTTP_URLS = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    _HOSTS,
    st.sampled_from(["", ":80", ":443", ":8080"]),
    _PATH,
    _QUERY,
)
# Every email is unique to its example: the OTP rate limit counts challenges per address.
EMAILS = st.builds(
    lambda local, host: f"{local}.{uuid.uuid4().hex[:12]}@{host}",
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_+-]{0,15}\Z"),
    st.sampled_from(["example.test", "retrace.example", "Example.COM"]),
)

# (component, property) -> strategy for the values a random draw rarely hits (null is added where the
# schema allows it).
SEMANTIC_FIELDS: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("MarkCreate", "url"): HTTP_URLS,
    ("MarkPatch", "url"): HTTP_URLS,
    ("OtpRequest", "email"): EMAILS,
}


# Rules across fields that a JSON Schema does not state; a valid body also keeps these.
CROSS_FIELD_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    # A mark keeps a url or a note: a patch that clears one must set the other.
    "MarkPatch": lambda body: all(
        body.get(other) is not None
        for field, other in (("url", "note"), ("note", "url"))
        if field in body and body[field] is None
    ),
}


def _from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _cached_from_schema(json.dumps(schema, sort_keys=True))


@cache
def _cached_from_schema(schema_json: str) -> st.SearchStrategy[Any]:
    return values(json.loads(schema_json))


def model_of(component: str) -> type[BaseModel]:
    return component_models()[component]


def _accepted(model: type[BaseModel], value: Any) -> bool:
    try:
        model.model_validate_json(json.dumps(value))
    except (ValidationError, ValueError):
        return False
    return True


@cache
def valid_bodies(component: str) -> st.SearchStrategy[dict[str, Any]]:
    """JSON bodies the model accepts, drawn from its own JSON schema."""
    model = model_of(component)
    schema = resolve(model.model_json_schema(), model.model_json_schema())
    schema.pop("$defs", None)
    overrides = {prop: strategy for (name, prop), strategy in SEMANTIC_FIELDS.items() if name == component}
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    optional = [p for p in properties if p not in required]
    not_null = {
        p: overrides[p] if p in overrides else _from_schema(_without_null(s)) for p, s in properties.items()
    }
    drawn = {p: st.none() | not_null[p] if _nullable(s) else not_null[p] for p, s in properties.items()}
    forbidden = schema.get("not")

    @st.composite
    def bodies(draw: st.DrawFn) -> dict[str, Any]:
        present = required | set(draw(st.sets(st.sampled_from(optional))) if optional else set())
        body = {prop: draw(drawn[prop]) for prop in properties if prop in present}
        if forbidden is not None and conforms(body, forbidden):
            # The one combination the schema's `not` rules out (a mark with neither url nor note):
            # mended by giving its last property a value, rather than thrown away and drawn again.
            prop = sorted(forbidden.get("properties", {}))[-1]
            body[prop] = draw(not_null[prop])
        return body

    rule = CROSS_FIELD_RULES.get(component)

    def keeps_the_rules(body: dict[str, Any]) -> bool:
        return _accepted(model, body) and (rule is None or rule(body))

    return bodies().filter(keeps_the_rules)


def valid_params(operation: Operation, where: str) -> st.SearchStrategy[dict[str, Any]]:
    """Query parameters (or headers) from the parameters' schemas; optional ones sometimes left out."""
    doc = load_committed()
    params = operation.parameters(where)
    if not params:
        return st.just({})
    strategies: dict[str, st.SearchStrategy[Any]] = {}
    for param in params:
        schema = resolve(param["schema"], doc)
        schema = _without_null(schema)
        value = _from_schema(schema)
        strategies[param["name"]] = value if param.get("required") else st.one_of(st.none(), value)
    return st.fixed_dictionaries(strategies).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _nullable(schema: dict[str, Any]) -> bool:
    return any(branch.get("type") == "null" for branch in schema.get("anyOf", []))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        kept = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(kept) == 1:
            return {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}
    return schema


# ---- breaking valid input, one way at a time


def _allowed_types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return set().union(*(_allowed_types(s) for s in schema["anyOf"]))
    if "const" in schema:
        return {type(schema["const"]).__name__}
    kind = schema.get("type")
    if kind is None and "enum" in schema:
        return {"string"}
    return {kind} if isinstance(kind, str) else set(kind or [])


_SAMPLES: dict[str, Any] = {
    "string": "not-this-type",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "array": [1, "x"],
    "object": {"nested": 1},
    "null": None,
}


def wrong_type_value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    allowed = _allowed_types(schema)
    if "integer" in allowed:
        allowed.add("number") if "number" not in allowed else None
    if "number" in allowed:
        allowed.add("integer")
    candidates = [v for kind, v in _SAMPLES.items() if kind not in allowed]
    # A JSON boolean is not an integer, but Pydantic's lax mode would accept "7" for an int: skip strings
    # of digits by construction (the samples hold none).
    return st.sampled_from(candidates)


def out_of_bounds_values(schema: dict[str, Any]) -> list[Any]:
    """Values just past each bound the schema states (nullable branches unwrapped)."""
    schema = _without_null(schema)
    values: list[Any] = []
    if "maxLength" in schema:
        values.append("x" * (int(schema["maxLength"]) + 1))
    if "minLength" in schema and int(schema["minLength"]) > 0:
        values.append("")
    if "maximum" in schema:
        values.append(int(schema["maximum"]) + 1)
    if "minimum" in schema:
        values.append(int(schema["minimum"]) - 1)
    if "maxItems" in schema:
        values.append([f"t{i}" for i in range(int(schema["maxItems"]) + 1)])
    if "enum" in schema:
        values.append("not-a-member")
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        values += [v for v in ("does not match !", "\x00", "") if not pattern.search(v)][:1]
    items = schema.get("items")
    if isinstance(items, dict):
        values += [[inner] for inner in out_of_bounds_values(items)]
    return values


@cache
def broken_bodies(component: str) -> st.SearchStrategy[tuple[str, Any]]:
    """(how it is broken, body) for a JSON body of `component`."""
    model = model_of(component)
    schema = resolve(model.model_json_schema(), model.model_json_schema())
    properties: dict[str, Any] = schema.get("properties", {})
    required = list(schema.get("required", []))

    @st.composite
    def broken(draw: st.DrawFn) -> tuple[str, Any]:
        body = copy.deepcopy(draw(valid_bodies(component)))
        ways = ["unknown-field", "wrong-type", "not-an-object"]
        ways += ["missing-required"] if required else []
        bounded = {p: out_of_bounds_values(s) for p, s in properties.items()}
        bounded = {p: v for p, v in bounded.items() if v}
        ways += ["out-of-bounds"] if bounded else []
        way = draw(st.sampled_from(ways))
        if way == "unknown-field":
            body[draw(st.sampled_from(["zz_unknown", "id", "user_id", "created_at"]))] = "x"
            if all(k in properties for k in body):  # e.g. a model with an `id` field
                body["zz_unknown"] = "x"
        elif way == "missing-required":
            body.pop(draw(st.sampled_from(required)), None)
        elif way == "wrong-type":
            prop = draw(st.sampled_from(sorted(properties)))
            body[prop] = draw(wrong_type_value(properties[prop]))
        elif way == "out-of-bounds":
            prop = draw(st.sampled_from(sorted(bounded)))
            body[prop] = draw(st.sampled_from(bounded[prop]))
        else:
            return way, draw(st.sampled_from([[body], "a string", 42, None]))
        return f"{way}", body

    return broken().filter(lambda pair: not _accepted(model, pair[1]))
