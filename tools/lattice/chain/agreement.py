"""One source of truth: SQLModel tables -> Pydantic schemas -> OpenAPI document must agree.

Three checks, each returning readable mismatch lines (empty when the chain holds):
- `column_mismatches`: a column that a response model exposes has the same type and nullability in the
  table, in the Pydantic model and in the document's component. Fields map to columns by name, within
  the table the target's chain gives for the model (ChainSpec.response_tables); a field with no column
  of that name (e.g. MarkOut.ingestion) is not a column and is skipped.
- `missing_components`: every Pydantic model a route uses (body, response, error responses, nested models)
  is a component of the document.
- `schema_mismatches`: each model's own JSON schema equals its component in the document.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)

from tools.lattice.chain.document import resolve
from tools.lattice.seam.targeting import load_target


@cache
def component_models() -> dict[str, type[BaseModel]]:
    """Every Pydantic model of the target's schema modules, by the name the document gives it (its title)."""
    found: dict[str, type[BaseModel]] = {}
    for module in load_target().chain().schema_modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found[component_name(value)] = value
    return found


def component_name(model: type[BaseModel]) -> str:
    title = model.model_config.get("title")
    return title if isinstance(title, str) else model.__name__


@cache
def app_tables() -> dict[str, Table]:
    return dict(load_target().chain().metadata.tables)


def _shape(schema: Mapping[str, Any]) -> tuple[str, bool]:
    """(a type label, nullable) of a property schema: e.g. ('string:uuid', False)."""
    branches = list(schema["anyOf"]) if "anyOf" in schema else [schema]
    nullable = any(b.get("type") == "null" for b in branches)
    labels = sorted({_label(b) for b in branches if b.get("type") != "null"})
    return "|".join(labels), nullable


def _label(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "enum:" + ",".join(sorted(map(str, schema["enum"])))
    kind = str(schema.get("type", "object"))
    if kind == "array":
        return f"array<{_label(schema.get('items', {}))}>"
    if kind == "object" and "title" in schema and "properties" in schema:
        return f"object:{schema['title']}"
    fmt = schema.get("format")
    return f"{kind}:{fmt}" if fmt in ("uuid", "date-time") else kind


def column_label(column_type: Any) -> str:
    """The JSON-schema label a column type is exposed as."""
    if isinstance(column_type, TypeDecorator):  # e.g. SQLModel's AutoString over VARCHAR
        return column_label(column_type.impl_instance)
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        values = [m.value for m in column_type.enum_class]
        return "enum:" + ",".join(sorted(map(str, values)))
    if isinstance(column_type, Uuid):
        return "string:uuid"
    if isinstance(column_type, DateTime):
        return "string:date-time"
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, Integer | BigInteger):
        return "integer"
    if isinstance(column_type, String | Text):
        return "string"
    if isinstance(column_type, ARRAY):
        return f"array<{column_label(column_type.item_type)}>"
    return f"unknown:{column_type.__class__.__name__}"


def column_mismatches(
    document: Mapping[str, Any],
    models: Mapping[str, type[BaseModel]] | None = None,
    tables: Mapping[str, Table] | None = None,
    response_tables: Mapping[str, str] | None = None,
) -> list[str]:
    spec = load_target().chain()
    response_tables = response_tables if response_tables is not None else spec.response_tables
    models = models if models is not None else component_models()
    tables = tables if tables is not None else app_tables()
    components = document["components"]["schemas"]
    problems: list[str] = []
    for name, table_name in response_tables.items():
        model, table = models.get(name), tables.get(table_name)
        if model is None or table is None or name not in components:
            problems.append(f"{name}: model, table {table_name!r} or component missing")
            continue
        own = model.model_json_schema(mode="serialization")
        own_props = resolve(own, own).get("properties", {})
        doc_props = resolve(components[name], document).get("properties", {})
        for field in model.model_fields:
            if field not in table.columns:
                continue
            column = table.columns[field]
            sql = (column_label(column.type), bool(column.nullable))
            pyd = _shape(own_props[field]) if field in own_props else ("<absent>", False)
            doc = _shape(doc_props[field]) if field in doc_props else ("<absent>", False)
            where = f"{name}.{field} (column {table_name}.{field})"
            if not sql[0] == pyd[0] == doc[0]:
                problems.append(
                    f"{where}: type differs: column {sql[0]}, pydantic {pyd[0]}, document {doc[0]}"
                )
            if (name, field) in spec.nullability_exceptions:
                continue
            if not sql[1] == pyd[1] == doc[1]:
                problems.append(
                    f"{where}: nullability differs: column {_null(sql[1])}, pydantic {_null(pyd[1])}, "
                    f"document {_null(doc[1])}"
                )
    return problems


def _null(nullable: bool) -> str:
    return "nullable" if nullable else "not null"


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def route_models(app: Any) -> dict[str, set[str]]:
    """operation id -> the names of every Pydantic model its route uses (body, responses, nested)."""
    operation_id = load_target().chain().operation_id
    used: dict[str, set[str]] = {}
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        annotations: list[Any] = [route.response_model]
        if route.body_field is not None:
            annotations.append(route.body_field.field_info.annotation)
        annotations += [r.get("model") for r in route.responses.values()]
        names = {component_name(m) for a in annotations if a is not None for m in _models_in(a)}
        used[operation_id(route)] = names
    return used


def _api_routes(routes: Iterable[Any]) -> Iterable[Any]:
    """APIRoutes, also inside included routers (FastAPI keeps those as `_IncludedRouter` wrappers)."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def missing_components(document: Mapping[str, Any], used: Mapping[str, set[str]]) -> list[str]:
    components = set(document["components"]["schemas"])
    return [
        f"{operation}: model {name} is used by the route but is not a component of the document"
        for operation, names in sorted(used.items())
        for name in sorted(names - components)
    ]


def _normalised(schema: Any) -> Any:
    """A resolved schema without the parts that only name or describe (title, description, examples)."""
    if isinstance(schema, dict):
        return {
            k: _normalised(v)
            for k, v in schema.items()
            if k not in ("title", "description", "examples", "$defs")
            # FastAPI leaves out `default: null`; an optional nullable field means the same without it.
            and not (k == "default" and v is None)
        }
    if isinstance(schema, list):
        return [_normalised(v) for v in schema]
    if isinstance(schema, float) and schema.is_integer():
        return int(schema)
    return schema


def schema_mismatches(
    document: Mapping[str, Any], models: Mapping[str, type[BaseModel]] | None = None
) -> list[str]:
    """Each model's JSON schema (validation mode for request bodies, serialization for responses)
    against its component in the document, property by property."""
    models = models if models is not None else component_models()
    components = document["components"]["schemas"]
    problems = []
    for name, model in sorted(models.items()):
        if name not in components:
            continue  # missing_components reports models a route uses; others may be internal
        doc = _normalised(resolve(components[name], document))
        candidates = []
        for mode in ("validation", "serialization"):
            own_schema = model.model_json_schema(mode=mode)
            candidates.append(_normalised(resolve(own_schema, own_schema)))
        if doc in candidates:
            continue
        own = candidates[0]
        for prop in sorted(set(own.get("properties", {})) | set(doc.get("properties", {}))):
            mine, theirs = own.get("properties", {}).get(prop), doc.get("properties", {}).get(prop)
            if mine != theirs:
                problems.append(f"{name}.{prop}: pydantic {mine} != document {theirs}")
        for key in sorted((set(own) | set(doc)) - {"properties"}):
            if own.get(key) != doc.get(key):
                problems.append(f"{name} ({key}): pydantic {own.get(key)} != document {doc.get(key)}")
    return problems
