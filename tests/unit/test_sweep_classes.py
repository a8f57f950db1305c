"""Every operation of the document is swept by at least one defect class, and each class has its module."""

from __future__ import annotations

import copy
from pathlib import Path

from tools.lattice.chain.document import load_committed
from tools.lattice.engines.race.classes import CLASSES, swept, unswept
from tools.lattice.engines.race.figures import RaceFigures

ROOT = Path(__file__).resolve().parents[2]


def test_every_operation_of_the_document_is_swept_by_some_class() -> None:
    missing = [f"{op.method.upper()} {op.path} ({op.operation_id})" for op in unswept()]
    assert not missing, f"operations no defect class sweeps: {missing}"


def test_an_operation_added_to_the_document_is_swept_without_naming_it() -> None:
    document = copy.deepcopy(load_committed())
    document["paths"]["/v1/brand-new/{thing_id}"] = {
        "post": {"operationId": "brand-new", "responses": {"200": {"description": "ok"}}}
    }
    reached = {
        c.name for c in CLASSES if any(op.operation_id == "brand-new" for op in swept(c.name, document))
    }
    assert {"slow_peers", "size_bounds", "parsed_inputs", "crash_debris"} <= reached


def test_each_class_names_a_test_module_that_exists() -> None:
    absent = [c.module for c in CLASSES if not (ROOT / c.module).is_file()]
    assert not absent, f"defect classes whose sweep module is missing: {absent}"


def test_class_figures_add_counts_keep_worst_and_extend_leftovers() -> None:
    total = RaceFigures()
    total.add_class_figures("x", {"requests": 3, "worst_latency_s": 0.5, "leftovers": ["a"]})
    other = RaceFigures()
    other.add_class_figures("x", {"requests": 4, "worst_latency_s": 0.2, "leftovers": ["b"]})
    total.merge(other.as_json())
    assert total.classes["x"] == {"requests": 7, "worst_latency_s": 0.5, "leftovers": ["a", "b"]}
