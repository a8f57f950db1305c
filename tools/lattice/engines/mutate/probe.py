"""A pytest plugin for a collection-only run: which third-party modules the tests import.

The fork server preloads them. Project modules (anything under the root) are left out: a child
must import those itself, after its mutant is on disk.
"""

from __future__ import annotations

import os
import sys

import pytest

LISTING_ENV = "LATTICE_MUTATE_MODULES"


def pytest_collection_finish(session: pytest.Session) -> None:
    root = os.path.realpath(str(session.config.rootpath))
    names = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name == "__main__" or (file and os.path.realpath(file).startswith(root + os.sep)):
            continue
        names.append(name)
    with open(os.environ[LISTING_ENV], "w") as out:
        out.write("\n".join(names) + "\n")  # import order: some modules expect their peers first
