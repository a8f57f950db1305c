"""docs/api.md and the OpenAPI document list the same statuses for every operation.

The page is the contract people read, the document the one clients are generated from; a status one of
them lists and the other does not (503 everywhere, 422 for a malformed id) is a bug in one of the two.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tools.lattice.chain.document import load_committed

API_MD = Path(__file__).parents[2] / "docs" / "api.md"
_ROW = re.compile(
    r"^\| (GET|POST|PUT|PATCH|DELETE) (\S+) \|(?P<body>[^|]*)\|(?P<ok>[^|]*)\|(?P<errors>[^|]*)\|$"
)
_STATUS = re.compile(r"(?<![\w/.-])([1-5]\d\d)(?![\w.])")
_HEALTH = re.compile(r"^- (GET) (/\w+) →(?P<text>.*)$")
_PARAMETER = re.compile(r"\{\w+\}")


def documented_statuses(page: str) -> dict[str, set[str]]:
    """`"GET /v1/marks/{mark_id}" -> {"200", "401", ...}` from the page's route tables and health list."""
    rows: dict[str, set[str]] = {}
    for line in page.splitlines():
        if match := _ROW.match(line):
            text = match["ok"] + match["errors"]
        elif match := _HEALTH.match(line):
            text = match["text"]
        else:
            continue
        rows[f"{match[1]} {match[2]}"] = set(_STATUS.findall(text))
    return rows


def _document_statuses(document: dict[str, Any]) -> dict[str, set[str]]:
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            # The page names every path parameter `{id}`; the document names them after their object.
            found[f"{method.upper()} {_PARAMETER.sub('{id}', path)}"] = set(operation["responses"])
    return found


def test_every_operation_is_a_row_of_the_page() -> None:
    page, document = documented_statuses(API_MD.read_text()), _document_statuses(load_committed())
    assert sorted(page) == sorted(document)


@pytest.mark.parametrize("operation", sorted(_document_statuses(load_committed())))
def test_page_and_document_list_the_same_statuses(operation: str) -> None:
    page = documented_statuses(API_MD.read_text())
    document = _document_statuses(load_committed())
    assert page.get(operation) == document[operation], (
        f"{operation}: docs/api.md lists {sorted(page.get(operation, set()))}, "
        f"the OpenAPI document {sorted(document[operation])}"
    )
