"""Schema against schema, in a direction: what a request now refuses, what a response may now return.

A schema is first normalised (`normalize`): its `$ref` chain followed, `allOf` merged, and nullability
taken out of its three spellings (`type: [..., "null"]`, `nullable: true`, an `anyOf`/`oneOf` branch
`{"type": "null"}` as FastAPI emits for `X | None`), so wrapping a schema to make it nullable reads as
one nullability change. Each keyword then has a small check; the ids are `<location>-<aspect>` (e.g.
`request-property-max-length-decreased`), and the level follows the effect: narrowing a request or
widening a response breaks the old client, the other way round is info, incomparable changes break both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from tools.lattice.chain.specdiff.document import Resolver, escape
from tools.lattice.chain.specdiff.model import Level, Report, register

Direction = Literal["request", "response"]
Effect = Literal["narrows", "widens", "incomparable"]

LOCATIONS: dict[str, Direction] = {
    "request-parameter": "request",
    "request-body": "request",
    "request-property": "request",
    "response-body": "response",
    "response-property": "response",
    "response-header": "response",
}

# (upper bound?, keyword, id stem)
_BOUNDS = [
    (True, "maximum", "max"),
    (True, "exclusiveMaximum", "exclusive-max"),
    (True, "maxLength", "max-length"),
    (True, "maxItems", "max-items"),
    (True, "maxProperties", "max-properties"),
    (True, "maxContains", "max-contains"),
    (False, "minimum", "min"),
    (False, "exclusiveMinimum", "exclusive-min"),
    (False, "minLength", "min-length"),
    (False, "minItems", "min-items"),
    (False, "minProperties", "min-properties"),
    (False, "minContains", "min-contains"),
]

# JSON Schema keywords whose presence constrains an instance: added narrows, removed widens. A schema
# valued one present on both sides is compared inside (in the same direction); any other value changed
# cannot be ordered.
_SUBSCHEMA_KEYWORDS = {
    "contains": "contains",
    "propertyNames": "property-names",
    "unevaluatedProperties": "unevaluated-properties",
    "unevaluatedItems": "unevaluated-items",
    "contentSchema": "content-schema",
    "if": "if",
    "then": "then",
    "else": "else",
}
_VALUE_KEYWORDS = {
    "dependentRequired": "dependent-required",
    "contentMediaType": "content-media-type",
    "contentEncoding": "content-encoding",
}
# Keyed sub-schemas: each key added narrows, removed widens; common keys compared inside.
_MAP_KEYWORDS = {"patternProperties": "pattern-property", "dependentSchemas": "dependent-schema"}


def _aspects() -> dict[str, tuple[Effect, str]]:
    aspects: dict[str, tuple[Effect, str]] = {
        "type-changed": ("incomparable", "the type changed to an unrelated one"),
        "type-generalized": ("widens", "the type was widened"),
        "type-specialized": ("narrows", "the type was narrowed"),
        "format-changed": ("incomparable", "the format changed"),
        "format-added": ("narrows", "a format was added"),
        "format-removed": ("widens", "the format was removed"),
        "became-nullable": ("widens", "null became a valid value"),
        "became-not-nullable": ("narrows", "null is no longer a valid value"),
        "became-enum": ("narrows", "the values were restricted to an enum"),
        "became-not-enum": ("widens", "the enum restriction was removed"),
        "enum-value-added": ("widens", "an enum value was added"),
        "enum-value-removed": ("narrows", "an enum value was removed"),
        # Zalando's x-extensible-enum: the values a client may send; clients must accept unknown ones.
        "x-extensible-enum-value-added": ("widens", "an x-extensible-enum value was added"),
        "x-extensible-enum-value-removed": ("narrows", "an x-extensible-enum value was removed"),
        "pattern-added": ("narrows", "a pattern was added"),
        "pattern-removed": ("widens", "the pattern was removed"),
        "pattern-changed": ("incomparable", "the pattern changed"),
        "additional-properties-forbidden": ("narrows", "additional properties became forbidden"),
        "additional-properties-allowed": ("widens", "additional properties became allowed"),
        "any-of-added": ("widens", "an anyOf alternative was added"),
        "any-of-removed": ("narrows", "an anyOf alternative was removed"),
        "one-of-added": ("widens", "a oneOf alternative was added"),
        "one-of-removed": ("narrows", "a oneOf alternative was removed"),
        # A tuple's positions moved, or a negated schema changed: neither can be ordered.
        "prefix-items-added": ("incomparable", "prefixItems were added"),
        "prefix-items-removed": ("incomparable", "prefixItems were removed"),
        "not-added": ("narrows", "a `not` schema was added"),
        "not-removed": ("widens", "the `not` schema was removed"),
        "not-changed": ("incomparable", "the `not` schema changed"),
        # Polymorphism: how a client tells the alternatives apart.
        "discriminator-added": ("narrows", "a discriminator was added"),
        "discriminator-removed": ("widens", "the discriminator was removed"),
        "discriminator-property-name-changed": ("incomparable", "the discriminator's property changed"),
        "discriminator-mapping-added": ("widens", "a discriminator mapping was added"),
        "discriminator-mapping-deleted": ("narrows", "a discriminator mapping was removed"),
        "discriminator-mapping-changed": ("incomparable", "a discriminator mapping changed"),
        "default-value-added": ("incomparable", "a default value was added"),
        "default-value-removed": ("incomparable", "the default value was removed"),
        "default-value-changed": ("incomparable", "the default value changed"),
    }
    for stem in [*_SUBSCHEMA_KEYWORDS.values(), *_VALUE_KEYWORDS.values(), *_MAP_KEYWORDS.values()]:
        aspects[f"{stem}-added"] = ("narrows", f"{stem.replace('-', ' ')} was added")
        aspects[f"{stem}-removed"] = ("widens", f"{stem.replace('-', ' ')} was removed")
        aspects[f"{stem}-changed"] = ("incomparable", f"{stem.replace('-', ' ')} changed")
    for upper, keyword, stem in _BOUNDS:
        tighter, looser = ("decreased", "increased") if upper else ("increased", "decreased")
        aspects[f"{stem}-{tighter}"] = ("narrows", f"{keyword} was tightened")
        aspects[f"{stem}-set"] = ("narrows", f"{keyword} was set where there was none")
        aspects[f"{stem}-{looser}"] = ("widens", f"{keyword} was relaxed")
        aspects[f"{stem}-unset"] = ("widens", f"{keyword} was removed")
    return aspects


ASPECTS = _aspects()

# Where the effect alone does not decide: a pattern change cannot be compared mechanically (oasdiff
# warns too), and most clients ignore properties they do not know.
_LEVEL_OVERRIDES: dict[tuple[Direction, str], Level] = {
    ("request", "pattern-changed"): Level.WARNING,
    ("response", "pattern-changed"): Level.WARNING,
    ("response", "additional-properties-allowed"): Level.WARNING,
    ("response", "x-extensible-enum-value-added"): Level.INFO,  # what "extensible" promises
    # Adding or dropping a discriminator changes how alternatives are told apart, not what is valid.
    ("request", "discriminator-added"): Level.WARNING,
    ("response", "discriminator-added"): Level.WARNING,
    ("request", "discriminator-removed"): Level.WARNING,
    ("response", "discriminator-removed"): Level.WARNING,
}
# A default is what the server assumes when the client sends nothing. A parameter's default changing
# changes what an old client's request means; a body's or a response's default is documentation (the
# client's own model fills it in, or the server always returns the value).
_DEFAULT_LEVELS = {"request-parameter": Level.BREAKING}


def level_of(direction: Direction, effect: Effect, aspect: str, loc: str = "") -> Level:
    if aspect.startswith("default-value-"):
        return _DEFAULT_LEVELS.get(loc, Level.INFO)
    if (direction, aspect) in _LEVEL_OVERRIDES:
        return _LEVEL_OVERRIDES[(direction, aspect)]
    if effect == "incomparable":
        return Level.BREAKING
    breaks = effect == ("narrows" if direction == "request" else "widens")
    return Level.BREAKING if breaks else Level.INFO


for _loc, _direction in LOCATIONS.items():
    for _aspect, (_effect, _summary) in ASPECTS.items():
        register(f"{_loc}-{_aspect}", level_of(_direction, _effect, _aspect, _loc), f"{_loc}: {_summary}")

# Properties of object schemas (request bodies, response bodies, and objects inside them).
NEW_REQUIRED_REQUEST_PROPERTY = register(
    "new-required-request-property", Level.BREAKING, "a required request property was added"
)
NEW_OPTIONAL_REQUEST_PROPERTY = register(
    "new-optional-request-property", Level.INFO, "an optional request property was added"
)
REQUEST_PROPERTY_REMOVED = register(
    "request-property-removed", Level.WARNING, "a request property was removed (extra properties allowed)"
)
REQUEST_PROPERTY_REMOVED_CLOSED = register(
    "request-property-removed-from-closed-schema",
    Level.BREAKING,
    "a request property was removed from a schema that forbids additional properties",
)
REQUEST_PROPERTY_BECAME_REQUIRED = register(
    "request-property-became-required", Level.BREAKING, "a request property became required"
)
REQUEST_PROPERTY_BECAME_OPTIONAL = register(
    "request-property-became-optional", Level.INFO, "a request property became optional"
)
RESPONSE_REQUIRED_PROPERTY_REMOVED = register(
    "response-required-property-removed", Level.BREAKING, "a required response property was removed"
)
RESPONSE_OPTIONAL_PROPERTY_REMOVED = register(
    "response-optional-property-removed", Level.WARNING, "an optional response property was removed"
)
RESPONSE_REQUIRED_PROPERTY_ADDED = register(
    "response-required-property-added", Level.INFO, "a required response property was added"
)
RESPONSE_OPTIONAL_PROPERTY_ADDED = register(
    "response-optional-property-added", Level.INFO, "an optional response property was added"
)
RESPONSE_PROPERTY_BECAME_OPTIONAL = register(
    "response-property-became-optional", Level.BREAKING, "a required response property became optional"
)
RESPONSE_PROPERTY_BECAME_REQUIRED = register(
    "response-property-became-required", Level.INFO, "a response property became required"
)
# readOnly properties are not sent in requests, writeOnly ones not returned in responses.
_FLAG_LEVELS: dict[tuple[Direction, str], Level] = {
    ("request", "became-read-only"): Level.WARNING,
    ("request", "became-not-read-only"): Level.INFO,
    ("request", "became-write-only"): Level.INFO,
    ("request", "became-not-write-only"): Level.INFO,
    ("response", "became-write-only"): Level.WARNING,
    ("response", "became-not-write-only"): Level.INFO,
    ("response", "became-read-only"): Level.INFO,
    ("response", "became-not-read-only"): Level.INFO,
}
for (_direction, _flag), _level in _FLAG_LEVELS.items():
    register(f"{_direction}-property-{_flag}", _level, f"a {_direction} property {_flag.replace('-', ' ')}")


@dataclass(frozen=True)
class Where:
    """The node being compared: its operation, pointer, id prefixes and how to name it in a sentence."""

    operation: str
    pointer: str
    loc: str  # id prefix at this node
    top_subject: str  # e.g. "the request body", "the query parameter `limit`"
    direction: Direction
    status: str = ""
    field: str = ""  # dotted property path below the top, "" at the top
    components: tuple[str, ...] = ()
    as_text: bool = False  # a parameter's value: every scalar travels as a string

    @property
    def prop_loc(self) -> str:
        return f"{self.direction}-property"

    @property
    def subject(self) -> str:
        if not self.field:
            return self.top_subject
        if self.field.startswith("[]"):
            return f"the items of {self.top_subject} at `{self.field}`"
        status = f" (status {self.status})" if self.status else ""
        return f"the {self.direction} property `{self.field}`{status}"

    def child(self, token: str, name: str) -> Where:
        field = f"{self.field}{name}" if name.startswith("[") or not self.field else f"{self.field}.{name}"
        return replace(self, pointer=f"{self.pointer}/{token}", loc=self.prop_loc, field=field)


@dataclass(frozen=True)
class Node:
    schema: dict[str, Any]
    nullable: bool
    refs: tuple[str, ...]  # component schema names this node came through


_SCHEMA_REF = "#/components/schemas/"
_SCALARS = frozenset({"string", "integer", "number", "boolean"})
_TIGHTEST = {"maximum": min, "exclusiveMaximum": min, "maxLength": min, "maxItems": min}
_TIGHTEST |= {"minimum": max, "exclusiveMinimum": max, "minLength": max, "minItems": max}


def _merge(into: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """`allOf` as one schema: properties and required united, each bound the tightest of the two."""
    out = dict(into)
    for key, value in part.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {**out.get(key, {}), **value}
        elif key == "required" and isinstance(value, list):
            out[key] = list(dict.fromkeys([*out.get(key, []), *value]))
        elif key not in out:
            out[key] = value
        elif key in _TIGHTEST and isinstance(value, int | float) and isinstance(out[key], int | float):
            out[key] = _TIGHTEST[key](out[key], value)
    return out


def _is_null(resolver: Resolver, branch: Any) -> bool:
    schema, _ = resolver.deref(branch)
    return isinstance(schema, Mapping) and schema.get("type") in ("null", ["null"])


def normalize(resolver: Resolver, raw: Any, depth: int = 0) -> Node:
    schema_any, refs = resolver.deref(raw)
    names = [r[len(_SCHEMA_REF) :] for r in refs if r.startswith(_SCHEMA_REF)]
    schema: dict[str, Any] = dict(schema_any) if isinstance(schema_any, Mapping) else {}
    nullable = schema.pop("nullable", False) is True
    if depth > 32:  # allOf/anyOf chains this deep are cycles through composition: stop unfolding
        return Node(schema, nullable, tuple(names))
    for part in schema.pop("allOf", None) or []:
        sub = normalize(resolver, part, depth + 1)
        names += sub.refs
        schema = _merge(schema, sub.schema)
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind and len(kind) > 1:
        nullable = True
        rest = [t for t in kind if t != "null"]
        schema["type"] = rest[0] if len(rest) == 1 else rest
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if not isinstance(branches, list):
            continue
        keep = [b for b in branches if not _is_null(resolver, b)]
        if len(keep) < len(branches):
            nullable = True
        if len(keep) == 1:
            del schema[key]
            sub = normalize(resolver, keep[0], depth + 1)
            names += sub.refs
            nullable = nullable or sub.nullable
            schema = {**schema, **sub.schema}
        else:
            schema[key] = keep
    if "const" in schema and "enum" not in schema:
        schema["enum"] = [schema.pop("const")]
    return Node(schema, nullable, tuple(names))


def types_of(resolver: Resolver, node: Node) -> frozenset[str] | None:
    """The JSON types a schema admits (None: any); `number` admits `integer`."""
    kind = node.schema.get("type")
    found: set[str] = set()
    if isinstance(kind, str):
        found = {kind}
    elif isinstance(kind, list):
        found = {str(k) for k in kind}
    else:
        branches = node.schema.get("anyOf") or node.schema.get("oneOf")
        if not isinstance(branches, list):
            return None
        for branch in branches:
            sub = types_of(resolver, normalize(resolver, branch))
            if sub is None:
                return None
            found |= sub
    if "number" in found:
        found.add("integer")
    return frozenset(found)


def _shown_types(types: frozenset[str] | None) -> str:
    if types is None:
        return "any type"
    shown = sorted(t for t in types if not (t == "integer" and "number" in types))
    return " or ".join(shown)


def _alternatives(node: Node) -> bool:
    return any(isinstance(node.schema.get(key), list) for key in ("anyOf", "oneOf"))


def _wrapped(o: Node, n: Node) -> bool:
    """One side is a plain schema, the other only alternatives: its properties are compared there."""
    if _alternatives(o) == _alternatives(n):
        return False
    composed = n if _alternatives(n) else o
    return not composed.schema.get("properties")


def _fingerprint(resolver: Resolver, raw: Any, depth: int = 0) -> str:
    """A schema's content with its `$ref`s followed (to a depth): equal prints, the same schema."""

    def inline(node: Any, level: int) -> Any:
        if isinstance(node, Mapping):
            if isinstance(node.get("$ref"), str):
                # Deep enough to tell schemas apart; below, a ref is any ref (a recursive schema
                # names itself there, under its old or new name).
                return inline(resolver.deref(node)[0], level + 1) if level < 4 else "$ref"
            # Names and prose are not content; a discriminator's mapping names the alternatives by ref.
            skip = ("title", "description", "discriminator")
            return {k: inline(v, level) for k, v in node.items() if k not in skip}
        if isinstance(node, list):
            return [inline(v, level) for v in node]
        return node

    return _value(inline(raw, depth))


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class SchemaDiff:
    """Compares schemas of the base (`old`) and revision (`new`) documents into `report`."""

    def __init__(self, report: Report, old: Resolver, new: Resolver) -> None:
        self.report = report
        self.old = old
        self.new = new

    def _emit(self, where: Where, aspect: str, phrase: str) -> None:
        text = f"{where.subject}: {phrase}"
        self.report.add(f"{where.loc}-{aspect}", where.operation, where.pointer, text, where.components)

    def _emit_id(self, where: Where, check_id: str, phrase: str) -> None:
        text = f"{where.subject}: {phrase}"
        self.report.add(check_id, where.operation, where.pointer, text, where.components)

    def compare(
        self, old_raw: Any, new_raw: Any, where: Where, stack: frozenset[tuple[str, str]] = frozenset()
    ) -> None:
        o, n = normalize(self.old, old_raw), normalize(self.new, new_raw)
        pair = (o.refs[-1] if o.refs else "", n.refs[-1] if n.refs else "")
        if pair != ("", ""):
            if pair in stack:  # a recursive schema: this pair is being compared further up
                return
            stack = stack | {pair}
        fresh = tuple(name for name in (n.refs or o.refs) if name not in where.components)
        where = replace(where, components=where.components + fresh)
        if not self._types(o, n, where):
            return
        self._format(o, n, where)
        self._nullable(o, n, where)
        self._enum(o, n, where)
        self._extensible_enum(o, n, where)
        self._bounds(o, n, where)
        self._pattern(o, n, where)
        self._additional(o, n, where, stack)
        self._default(o, n, where)
        self._keywords(o, n, where, stack)
        self._discriminator(o, n, where)
        self._composition(o, n, where, stack)
        self._items(o, n, where, stack)
        if not _wrapped(o, n):
            self._properties(o, n, where, stack)

    def _types(self, o: Node, n: Node, where: Where) -> bool:
        """False when the types are unrelated: nothing below is worth comparing then."""
        for key in ("anyOf", "oneOf"):  # alternatives on both sides: _composition says what changed
            if key in o.schema and key in n.schema and "type" not in o.schema and "type" not in n.schema:
                return True
        old, new = types_of(self.old, o), types_of(self.new, n)
        if old == new:
            return True
        if where.as_text and new == frozenset({"string"}) and old and old <= _SCALARS:
            # A parameter travels as text: any scalar an old client sends is a string too.
            self._emit(where, "type-generalized", f"the type changed from {_shown_types(old)} to string")
            return True
        phrase = f"the type changed from {_shown_types(old)} to {_shown_types(new)}"
        if new is None or (old is not None and old < new):
            self._emit(where, "type-generalized", phrase)
        elif old is None or new < old:
            self._emit(where, "type-specialized", phrase)
        else:
            self._emit(where, "type-changed", phrase)
            return False
        return True

    def _format(self, o: Node, n: Node, where: Where) -> None:
        old, new = o.schema.get("format"), n.schema.get("format")
        if old == new:
            return
        if old is None:
            self._emit(where, "format-added", f"the format {new} was added")
        elif new is None:
            self._emit(where, "format-removed", f"the format {old} was removed")
        else:
            self._emit(where, "format-changed", f"the format changed from {old} to {new}")

    def _nullable(self, o: Node, n: Node, where: Where) -> None:
        if o.nullable and not n.nullable:
            self._emit(where, "became-not-nullable", "null is no longer allowed")
        elif n.nullable and not o.nullable:
            self._emit(where, "became-nullable", "it became nullable")

    def _enum(self, o: Node, n: Node, where: Where) -> None:
        old, new = o.schema.get("enum"), n.schema.get("enum")
        if not isinstance(old, list) and not isinstance(new, list):
            return
        if not isinstance(old, list):
            self._emit(where, "became-enum", f"it was restricted to the values {_value(new)}")
            return
        if not isinstance(new, list):
            self._emit(where, "became-not-enum", "its enum restriction was removed")
            return
        old_keys, new_keys = {_value(v): v for v in old}, {_value(v): v for v in new}
        for key in new_keys.keys() - old_keys.keys():
            self._emit(where, "enum-value-added", f"the enum value {key} was added")
        for key in old_keys.keys() - new_keys.keys():
            self._emit(where, "enum-value-removed", f"the enum value {key} was removed")

    def _extensible_enum(self, o: Node, n: Node, where: Where) -> None:
        old, new = o.schema.get("x-extensible-enum"), n.schema.get("x-extensible-enum")
        if not isinstance(old, list) or not isinstance(new, list):
            return
        old_keys, new_keys = {_value(v) for v in old}, {_value(v) for v in new}
        for key in sorted(new_keys - old_keys):
            self._emit(where, "x-extensible-enum-value-added", f"the x-extensible-enum value {key} was added")
        for key in sorted(old_keys - new_keys):
            self._emit(
                where, "x-extensible-enum-value-removed", f"the x-extensible-enum value {key} was removed"
            )

    def _bounds(self, o: Node, n: Node, where: Where) -> None:
        for _, keyword, stem in _BOUNDS:
            old, new = o.schema.get(keyword), n.schema.get(keyword)
            # OpenAPI 3.0's boolean exclusiveMaximum/Minimum are modifiers, not bounds: not compared here.
            if isinstance(old, bool) or isinstance(new, bool) or old == new:
                continue
            if old is None:
                self._emit(where, f"{stem}-set", f"{keyword} was set to {new}")
            elif new is None:
                self._emit(where, f"{stem}-unset", f"{keyword} (was {old}) was removed")
            else:
                verb = "decreased" if new < old else "increased"
                self._emit(where, f"{stem}-{verb}", f"{keyword} was {verb} from {old} to {new}")

    def _pattern(self, o: Node, n: Node, where: Where) -> None:
        # An empty pattern matches every string: it is no pattern.
        old, new = o.schema.get("pattern") or None, n.schema.get("pattern") or None
        if old == new:
            return
        if old is None:
            self._emit(where, "pattern-added", f"the pattern {new!r} was added")
        elif new is None:
            self._emit(where, "pattern-removed", f"the pattern {old!r} was removed")
        else:
            self._emit(where, "pattern-changed", f"the pattern changed from {old!r} to {new!r}")

    def _additional(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        old_open = o.schema.get("additionalProperties", True) is not False
        new_open = n.schema.get("additionalProperties", True) is not False
        if old_open and not new_open:
            self._emit(where, "additional-properties-forbidden", "properties not listed are now refused")
        elif new_open and not old_open:
            self._emit(where, "additional-properties-allowed", "properties not listed are now allowed")
        old, new = o.schema.get("additionalProperties"), n.schema.get("additionalProperties")
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.compare(old, new, where.child("additionalProperties", "{*}"), stack)

    def _default(self, o: Node, n: Node, where: Where) -> None:
        if "default" not in o.schema and "default" not in n.schema:
            return
        old, new = o.schema.get("default"), n.schema.get("default")
        if "default" not in o.schema:
            self._emit(where, "default-value-added", f"the default {_value(new)} was added")
        elif "default" not in n.schema:
            self._emit(where, "default-value-removed", f"the default {_value(old)} was removed")
        elif _value(old) != _value(new):
            self._emit(
                where, "default-value-changed", f"the default changed from {_value(old)} to {_value(new)}"
            )

    def _keywords(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        """JSON Schema assertion keywords beyond OpenAPI 3.0's (contains, dependent*, prefixItems, ...)."""
        whole = [*_SUBSCHEMA_KEYWORDS.items(), *_VALUE_KEYWORDS.items(), ("not", "not")]
        for keyword, stem in whole:
            old, new = o.schema.get(keyword), n.schema.get(keyword)
            if old is None and new is None:
                continue
            if old is None:
                self._emit(where, f"{stem}-added", f"`{keyword}` was added")
            elif new is None:
                self._emit(where, f"{stem}-removed", f"`{keyword}` was removed")
            elif keyword in _SUBSCHEMA_KEYWORDS and isinstance(old, Mapping) and isinstance(new, Mapping):
                self.compare(old, new, replace(where, pointer=f"{where.pointer}/{keyword}"), stack)
            elif _value(old) != _value(new):
                self._emit(where, f"{stem}-changed", f"`{keyword}` changed")
        for keyword, stem in _MAP_KEYWORDS.items():
            old_map, new_map = o.schema.get(keyword) or {}, n.schema.get(keyword) or {}
            for key in sorted(new_map.keys() - old_map.keys()):
                self._emit(where, f"{stem}-added", f"the {keyword} entry {key!r} was added")
            for key in sorted(old_map.keys() - new_map.keys()):
                self._emit(where, f"{stem}-removed", f"the {keyword} entry {key!r} was removed")
            for key in sorted(old_map.keys() & new_map.keys()):
                inner = replace(where, pointer=f"{where.pointer}/{keyword}/{escape(key)}")
                self.compare(old_map[key], new_map[key], inner, stack)
        old_tuple, new_tuple = o.schema.get("prefixItems"), n.schema.get("prefixItems")
        if isinstance(old_tuple, list) or isinstance(new_tuple, list):
            old_list, new_list = old_tuple or [], new_tuple or []
            if len(new_list) > len(old_list):
                self._emit(where, "prefix-items-added", f"prefixItems grew to {len(new_list)} positions")
            elif len(new_list) < len(old_list):
                self._emit(where, "prefix-items-removed", f"prefixItems shrank to {len(new_list)} positions")
            for index, (was, now) in enumerate(zip(old_list, new_list, strict=False)):
                self.compare(was, now, where.child(f"prefixItems/{index}", f"[{index}]"), stack)

    def _discriminator(self, o: Node, n: Node, where: Where) -> None:
        old, new = o.schema.get("discriminator"), n.schema.get("discriminator")
        if not isinstance(old, Mapping) and not isinstance(new, Mapping):
            return
        if not isinstance(old, Mapping):
            self._emit(where, "discriminator-added", "a discriminator was added")
            return
        if not isinstance(new, Mapping):
            self._emit(where, "discriminator-removed", "the discriminator was removed")
            return
        if old.get("propertyName") != new.get("propertyName"):
            was, now = old.get("propertyName"), new.get("propertyName")
            phrase = f"the discriminator property changed from {was!r} to {now!r}"
            self._emit(where, "discriminator-property-name-changed", phrase)
        old_map, new_map = old.get("mapping") or {}, new.get("mapping") or {}
        for value in sorted(new_map.keys() - old_map.keys()):
            self._emit(where, "discriminator-mapping-added", f"the discriminator value {value!r} was added")
        for value in sorted(old_map.keys() - new_map.keys()):
            self._emit(
                where, "discriminator-mapping-deleted", f"the discriminator value {value!r} was removed"
            )
        for value in sorted(old_map.keys() & new_map.keys()):
            if old_map[value] != new_map[value] and _fingerprint(
                self.old, {"$ref": old_map[value]}
            ) != _fingerprint(self.new, {"$ref": new_map[value]}):
                phrase = f"the discriminator value {value!r} now maps to {new_map[value]}"
                self._emit(where, "discriminator-mapping-changed", phrase)

    def _composition(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        """Alternatives matched across sides: by component name, else by content, else by type.

        A schema with no anyOf/oneOf facing one with them is one alternative of its own, so wrapping a
        schema in a `oneOf` (or unwrapping it) reads as the alternatives added and removed.
        """
        for key, stem in (("anyOf", "any-of"), ("oneOf", "one-of")):
            old, new = o.schema.get(key), n.schema.get(key)
            if not isinstance(old, list) and not isinstance(new, list):
                continue
            if not isinstance(old, list):
                if isinstance(n.schema.get("oneOf" if key == "anyOf" else "anyOf"), list):
                    continue  # the other keyword: oneOf ↔ anyOf is compared there
                old_sigs = {self._own_signature(self.old, o): o.schema}
            else:
                old_sigs = self._signatures(self.old, old)
            if not isinstance(new, list):
                if isinstance(o.schema.get("oneOf" if key == "anyOf" else "anyOf"), list):
                    continue
                new_sigs = {self._own_signature(self.new, n): n.schema}
            else:
                new_sigs = self._signatures(self.new, new)
            pairs = [(sig, sig) for sig in old_sigs.keys() & new_sigs.keys()]
            gone = [sig for sig in old_sigs if sig not in new_sigs]
            came = [sig for sig in new_sigs if sig not in old_sigs]
            prints = {sig: _fingerprint(self.new, new_sigs[sig]) for sig in came}
            for sig in list(gone):
                twin = next((c for c in came if prints[c] == _fingerprint(self.old, old_sigs[sig])), None)
                if twin is not None:  # the same alternative under another name
                    pairs.append((sig, twin))
                    gone.remove(sig)
                    came.remove(twin)
            for sig in gone:
                self._emit(where, f"{stem}-removed", f"the {key} alternative {sig} was removed")
            for sig in came:
                self._emit(where, f"{stem}-added", f"the {key} alternative {sig} was added")
            for was, now in pairs:
                # The plain side of a wrapping is compared with the alternative it became (or was).
                side, branch = (new, new_sigs[now]) if isinstance(new, list) else (old, old_sigs[was])
                index = side.index(branch) if isinstance(side, list) else 0
                inner = replace(where, pointer=f"{where.pointer}/{key}/{index}")
                self.compare(old_sigs[was], new_sigs[now], inner, stack)

    @staticmethod
    def _own_signature(resolver: Resolver, node: Node) -> str:
        return node.refs[0] if node.refs else f"({_shown_types(types_of(resolver, node))})"

    @staticmethod
    def _signatures(resolver: Resolver, branches: list[Any]) -> dict[str, Any]:
        """Each alternative by its component name, else by its types and position; value: the branch."""
        sigs: dict[str, Any] = {}
        for branch in branches:
            node = normalize(resolver, branch)
            sig = node.refs[0] if node.refs else f"({_shown_types(types_of(resolver, node))})"
            while sig in sigs:
                sig += "'"
            sigs[sig] = branch
        return sigs

    def _items(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        old, new = o.schema.get("items"), n.schema.get("items")
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.compare(old, new, where.child("items", "[]"), stack)

    def _properties(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        old_props = o.schema.get("properties") or {}
        new_props = n.schema.get("properties") or {}
        old_required = set(o.schema.get("required") or [])
        new_required = set(n.schema.get("required") or [])
        request = where.direction == "request"
        hidden = "readOnly" if request else "writeOnly"  # the flag that keeps a property out of this flow
        for name in sorted(old_props.keys() | new_props.keys()):
            sub = where.child(f"properties/{escape(name)}", name)
            old_node = normalize(self.old, old_props[name]) if name in old_props else None
            new_node = normalize(self.new, new_props[name]) if name in new_props else None
            old_seen = old_node is not None and old_node.schema.get(hidden) is not True
            new_seen = new_node is not None and new_node.schema.get(hidden) is not True
            old_req, new_req = old_seen and name in old_required, new_seen and name in new_required
            if new_node is None:
                if old_seen:
                    closed = n.schema.get("additionalProperties", True) is False
                    if request:
                        check = REQUEST_PROPERTY_REMOVED_CLOSED if closed else REQUEST_PROPERTY_REMOVED
                    else:
                        check = (
                            RESPONSE_REQUIRED_PROPERTY_REMOVED
                            if old_req
                            else RESPONSE_OPTIONAL_PROPERTY_REMOVED
                        )
                    self._emit_id(sub, check, "it was removed")
                continue
            if old_node is None:
                if new_seen:
                    if request:
                        check = NEW_REQUIRED_REQUEST_PROPERTY if new_req else NEW_OPTIONAL_REQUEST_PROPERTY
                    else:
                        check = (
                            RESPONSE_REQUIRED_PROPERTY_ADDED if new_req else RESPONSE_OPTIONAL_PROPERTY_ADDED
                        )
                    self._emit_id(sub, check, f"it was added as {'required' if new_req else 'optional'}")
                continue
            self._flags(old_node, new_node, sub)
            if old_req and not new_req:
                check = REQUEST_PROPERTY_BECAME_OPTIONAL if request else RESPONSE_PROPERTY_BECAME_OPTIONAL
                self._emit_id(sub, check, "it became optional")
            elif new_req and not old_req and old_seen == new_seen:
                check = REQUEST_PROPERTY_BECAME_REQUIRED if request else RESPONSE_PROPERTY_BECAME_REQUIRED
                self._emit_id(sub, check, "it became required")
            elif (
                new_req and not old_req
            ):  # it just entered this flow (lost its readOnly/writeOnly) as required
                check = REQUEST_PROPERTY_BECAME_REQUIRED if request else RESPONSE_PROPERTY_BECAME_REQUIRED
                self._emit_id(sub, check, f"it is no longer {hidden} and is required")
            if old_seen and new_seen:
                self.compare(old_props[name], new_props[name], sub, stack)

    def _flags(self, old: Node, new: Node, where: Where) -> None:
        for keyword, stem in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            was, now = old.schema.get(keyword) is True, new.schema.get(keyword) is True
            if was == now:
                continue
            flag = f"became-{stem}" if now else f"became-not-{stem}"
            self._emit_id(where, f"{where.direction}-property-{flag}", f"it {flag.replace('-', ' ')}")
