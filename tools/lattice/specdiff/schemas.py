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

from .document import Resolver, escape
from .model import Level, Report, register

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
    (False, "minimum", "min"),
    (False, "exclusiveMinimum", "exclusive-min"),
    (False, "minLength", "min-length"),
    (False, "minItems", "min-items"),
]


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
        "pattern-added": ("narrows", "a pattern was added"),
        "pattern-removed": ("widens", "the pattern was removed"),
        "pattern-changed": ("incomparable", "the pattern changed"),
        "additional-properties-forbidden": ("narrows", "additional properties became forbidden"),
        "additional-properties-allowed": ("widens", "additional properties became allowed"),
        "any-of-added": ("widens", "an anyOf alternative was added"),
        "any-of-removed": ("narrows", "an anyOf alternative was removed"),
        "one-of-added": ("widens", "a oneOf alternative was added"),
        "one-of-removed": ("narrows", "a oneOf alternative was removed"),
    }
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
}


def level_of(direction: Direction, effect: Effect, aspect: str) -> Level:
    if (direction, aspect) in _LEVEL_OVERRIDES:
        return _LEVEL_OVERRIDES[(direction, aspect)]
    if effect == "incomparable":
        return Level.BREAKING
    breaks = effect == ("narrows" if direction == "request" else "widens")
    return Level.BREAKING if breaks else Level.INFO


for _loc, _direction in LOCATIONS.items():
    for _aspect, (_effect, _summary) in ASPECTS.items():
        register(f"{_loc}-{_aspect}", level_of(_direction, _effect, _aspect), f"{_loc}: {_summary}")

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
        self._bounds(o, n, where)
        self._pattern(o, n, where)
        self._additional(o, n, where)
        self._composition(o, n, where, stack)
        self._items(o, n, where, stack)
        self._properties(o, n, where, stack)

    def _types(self, o: Node, n: Node, where: Where) -> bool:
        """False when the types are unrelated: nothing below is worth comparing then."""
        for key in ("anyOf", "oneOf"):  # alternatives on both sides: _composition says what changed
            if key in o.schema and key in n.schema and "type" not in o.schema and "type" not in n.schema:
                return True
        old, new = types_of(self.old, o), types_of(self.new, n)
        if old == new:
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
        old, new = o.schema.get("pattern"), n.schema.get("pattern")
        if old == new:
            return
        if old is None:
            self._emit(where, "pattern-added", f"the pattern {new!r} was added")
        elif new is None:
            self._emit(where, "pattern-removed", f"the pattern {old!r} was removed")
        else:
            self._emit(where, "pattern-changed", f"the pattern changed from {old!r} to {new!r}")

    def _additional(self, o: Node, n: Node, where: Where) -> None:
        old_open = o.schema.get("additionalProperties", True) is not False
        new_open = n.schema.get("additionalProperties", True) is not False
        if old_open and not new_open:
            self._emit(where, "additional-properties-forbidden", "properties not listed are now refused")
        elif new_open and not old_open:
            self._emit(where, "additional-properties-allowed", "properties not listed are now allowed")

    def _composition(self, o: Node, n: Node, where: Where, stack: frozenset[tuple[str, str]]) -> None:
        for key, stem in (("anyOf", "any-of"), ("oneOf", "one-of")):
            old, new = o.schema.get(key), n.schema.get(key)
            if not isinstance(old, list) or not isinstance(new, list):
                continue  # one side only: the type check above says what that did
            old_sigs, new_sigs = self._signatures(self.old, old), self._signatures(self.new, new)
            for sig in old_sigs.keys() - new_sigs.keys():
                self._emit(where, f"{stem}-removed", f"the {key} alternative {sig} was removed")
            for sig in new_sigs.keys() - old_sigs.keys():
                self._emit(where, f"{stem}-added", f"the {key} alternative {sig} was added")
            for sig in old_sigs.keys() & new_sigs.keys():
                index = new_sigs[sig]
                inner = replace(where, pointer=f"{where.pointer}/{key}/{index}")
                self.compare(old[old_sigs[sig]], new[index], inner, stack)

    @staticmethod
    def _signatures(resolver: Resolver, branches: list[Any]) -> dict[str, int]:
        """Alternatives matched across sides by their component name, else by their type and position."""
        sigs: dict[str, int] = {}
        for index, branch in enumerate(branches):
            node = normalize(resolver, branch)
            sig = node.refs[0] if node.refs else f"({_shown_types(types_of(resolver, node))})"
            while sig in sigs:
                sig += "'"
            sigs[sig] = index
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
