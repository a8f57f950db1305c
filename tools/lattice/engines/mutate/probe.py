"""A pytest plugin for a collection-only run: which third-party modules the tests import.

The fork servers preload them. The project's modules (anything under the root: app, tests, tools) go
to a second listing, `<listing>.project`, which only the warm server (forkserver.py) imports: its
children swap a mutant's function in rather than import the mutated file.
"""

from __future__ import annotations

import os
import sys

import pytest

LISTING_ENV = "LATTICE_MUTATE_MODULES"


def pytest_collection_finish(session: pytest.Session) -> None:
    root = os.path.realpath(str(session.config.rootpath))
    names: list[str] = []
    project: list[str] = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name == "__main__" or name.startswith(__package__ or __name__):
            continue
        (project if file and os.path.realpath(file).startswith(root + os.sep) else names).append(name)
    listing = os.environ[LISTING_ENV]
    for path, found in ((listing, names), (f"{listing}.project", project)):
        with open(path, "w") as out:
            out.write("\n".join(found) + "\n")  # import order: some modules expect their peers first
