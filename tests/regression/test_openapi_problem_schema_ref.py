"""Every error response of the OpenAPI document pointed at a schema that was not there.

What broke: app/openapi.py rewrote each 4xx/5xx response to `application/problem+json` with
`$ref: '#/components/schemas/Problem'`, but FastAPI registers the model under its class name,
`ProblemBody`. The reference dangled in every error response of every operation.

How it showed: openapi-spec-validator rejected the served document (PointerToNowhere:
'/components/schemas/Problem'), so neither the contract suite's response validator nor the SDK generator
could load it.

What fixed it: the component is published under the name the references use (`PROBLEM_SCHEMA =
"Problem"`, also the model's title) — commit d4e5047.

Locked reproduction: fetch the document the app serves, check every `$ref` resolves and the document
validates. Checked: with d4e5047 reverted in a scratch copy this case fails; with it, it passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from openapi_spec_validator import validate


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> object:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_error_response_schema_resolves(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    dangling = []
    for ref in sorted(set(_refs(document))):
        try:
            _resolve(document, ref)
        except KeyError:
            dangling.append(ref)
    assert dangling == []
    problem = document["paths"]["/v1/marks/{mark_id}"]["get"]["responses"]["404"]["content"]
    assert problem["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    validate(document)
