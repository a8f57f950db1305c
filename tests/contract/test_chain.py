"""Tables -> Pydantic schemas -> OpenAPI document: one source of truth (tools.lattice.chain.agreement), and
proof that each check catches a deliberate mismatch with a message naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, create_model
from sqlalchemy import Column, Integer, MetaData, Table, Text, Uuid

from app.main import create_app
from app.schemas import UserOut
from app.settings import Settings
from tools.lattice.chain import agreement as chain
from tools.lattice.chain.document import live_document, load_committed, validate_document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_committed()


def test_committed_document_is_valid_and_current(document: dict[str, Any]) -> None:
    validate_document(document)
    assert live_document() == document, "openapi/retrace.json is stale: python -m tools.lattice spec"


def test_columns_models_and_document_agree(document: dict[str, Any]) -> None:
    assert chain.column_mismatches(document) == []


def test_every_model_a_route_uses_is_in_the_document(document: dict[str, Any]) -> None:
    app = create_app(Settings(database_url="postgresql://c@127.0.0.1:1/c", redis_url="redis://127.0.0.1:1/0"))
    used = chain.route_models(app)
    assert {"MarkOut", "MarkCreate", "Problem", "UserOut", "TokenOut"} <= set().union(*used.values())
    assert chain.missing_components(document, used) == []


def test_models_json_schema_matches_the_components(document: dict[str, Any]) -> None:
    assert chain.schema_mismatches(document) == []


# ---- each check catches a deliberate mismatch


def test_a_field_made_non_nullable_is_caught(document: dict[str, Any]) -> None:
    """UserOut.display_name is nullable in the column and the document: a copy that says `str` is drift."""
    strict: type[BaseModel] = create_model("UserOut", __base__=UserOut, display_name=(str, ...))
    models: dict[str, type[BaseModel]] = {**chain.component_models(), "UserOut": strict}
    problems = chain.column_mismatches(document, models=models)
    assert any("UserOut.display_name" in p and "nullability differs" in p for p in problems), problems
    assert any("UserOut.display_name" in p for p in chain.schema_mismatches(document, models=models))


def test_a_column_of_another_type_is_caught(document: dict[str, Any]) -> None:
    """A fake users table whose display_name is an integer column."""
    fake = Table(
        "users",
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("email", Text, nullable=False),
        Column("display_name", Integer, nullable=True),
        Column("created_at", Text, nullable=False),
    )
    problems = chain.column_mismatches(document, tables={**chain.app_tables(), "users": fake})
    assert any("UserOut.display_name" in p and "column integer" in p for p in problems), problems
    assert any("UserOut.created_at" in p and "type differs" in p for p in problems), problems


def test_a_component_edited_in_the_document_is_caught(document: dict[str, Any]) -> None:
    edited = copy.deepcopy(document)
    edited["components"]["schemas"]["MarkOut"]["properties"]["url"] = {"type": "string"}
    assert any("MarkOut.url" in p for p in chain.column_mismatches(edited))
    assert any("MarkOut.url" in p for p in chain.schema_mismatches(edited))


def test_a_route_model_missing_from_the_document_is_caught(document: dict[str, Any]) -> None:
    edited = copy.deepcopy(document)
    del edited["components"]["schemas"]["TokenOut"]
    problems = chain.missing_components(edited, {"tokens-list": {"TokenOut", "Problem"}})
    assert problems == [
        "tokens-list: model TokenOut is used by the route but is not a component of the document"
    ]
