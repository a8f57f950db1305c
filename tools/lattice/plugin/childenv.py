"""The environment of a pytest run the lattice starts as a child of another (a tmp project in a test,
a suite in a benchmark or a command): the parent's, less what chose or described the parent's own run.

LATTICE_SHARD picks a part of the parent's suite: inherited, a child's one-test suite lands in the
other part and pytest exits 5 ("no tests ran"). xdist's PYTEST_XDIST_* tell a process it is a worker
(foreign mode's plugin reads PYTEST_XDIST_WORKER before any config exists), and PYTEST_CURRENT_TEST /
PYTEST_VERSION describe the parent's test. Service settings (LATTICE_PROVIDER, URLs, state dir) stay:
a child that starts a service set should use the same servers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

RUN_SCOPED = ("LATTICE_SHARD", "PYTEST_CURRENT_TEST", "PYTEST_VERSION")
RUN_SCOPED_PREFIXES = ("PYTEST_XDIST_",)


def child_pytest_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) without the parent run's variables, plus `extra`."""
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if key not in RUN_SCOPED and not key.startswith(RUN_SCOPED_PREFIXES)
    }
    return {**env, **extra}
