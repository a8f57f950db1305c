"""`spec diff`: what an OpenAPI change does to a client built on the old document.

One job per module: `model` (a change, the check registry), `document` (loading sides, `$ref` and
pointers), `schemas` (schema-to-schema checks), `requests`, `responses`, `operations` (the walk over
paths, parameters, bodies, statuses, security), `levels` (openapi/levels.toml), `policy` (the
info.version rules), `sdknames` (operationIds and schemas as the generated SDK names them), `render`
(text, JSON, markdown) and `command` (the CLI and the spec guard's use of it).
"""

from __future__ import annotations

from tools.lattice.chain.specdiff.model import CHECKS, Change, Level
from tools.lattice.chain.specdiff.operations import diff

__all__ = ["CHECKS", "Change", "Level", "diff"]
