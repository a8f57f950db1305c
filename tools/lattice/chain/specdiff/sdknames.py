"""Operations and component schemas as openapi-python-client 0.29 names them in the generated SDK.

Endpoint modules are `retrace_client.api.<snake(first tag)>.<snake(operationId)>`, each with `sync`,
`sync_detailed`, `asyncio` and `asyncio_detailed`; a component schema `X` is the class
`retrace_client.models.<PascalCase(X)>` in the module `models/<snake(PascalCase(X))>.py`. The word
splitting follows the generator's `strings.snake_case`/`pascal_case` (re-implemented: the generator is
not installed outside `nox -s gen`).
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tools.lattice.chain.specdiff.model import Change, Level
from tools.lattice.chain.specdiff.operations import METHODS, label

PACKAGE = "retrace_client"
FUNCTIONS = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")
_DELIMITERS = r"\. _-"
_RESERVED = (set(dir(builtins)) | {"self", "true", "false", "datetime"}) - {"id"}


def _sanitize(value: str) -> str:
    return "".join(c for c in value if c.isidentifier() or c.isdecimal() or c in _DELIMITERS)


def _words(value: str) -> list[str]:
    if any(c.isupper() for c in value):
        value = " ".join(re.split("([A-Z]?[a-z]+)", value))
    return re.findall(rf"[^{re.escape(_DELIMITERS)}]+", value)


def _fix_reserved(value: str) -> str:
    return f"{value}_" if value in _RESERVED or keyword.iskeyword(value) else value


def snake(value: str) -> str:
    return _fix_reserved("_".join(_words(_sanitize(value))).lower())


def pascal(value: str) -> str:
    words = _words(_sanitize(value))
    return _fix_reserved("".join(w.capitalize() if not w.isupper() else w for w in words))


def operation_module(operation: Mapping[str, Any], method: str, path: str) -> str:
    tags = operation.get("tags") or ["default"]
    name = operation.get("operationId") or f"{method}_{path}"
    return f"{PACKAGE}.api.{snake(str(tags[0]))}.{snake(str(name))}"


def model_class(schema_name: str) -> str:
    return f"{PACKAGE}.models.{pascal(schema_name)}"


def operation_modules(document: Mapping[str, Any]) -> dict[str, str]:
    """ "GET /v1/marks" → the SDK module holding its functions."""
    found = {}
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, Mapping):
                found[label(method, path)] = operation_module(operation, method, path)
    return found


def consequences(changes: Iterable[Change], base: Mapping[str, Any]) -> list[str]:
    """One line per breaking change: the SDK functions and models (the base's SDK) whose shape it changes."""
    modules = operation_modules(base)
    lines = []
    for change in changes:
        if change.level is not Level.BREAKING:
            continue
        module = modules.get(change.operation)
        where = f"{module}.{{{','.join(FUNCTIONS)}}}" if module else change.operation
        models = ", ".join(model_class(name) for name in change.components)
        shape = f"; models {models}" if models else ""
        lines.append(f"[{change.id}] {where}{shape}: {change.text}")
    return lines
