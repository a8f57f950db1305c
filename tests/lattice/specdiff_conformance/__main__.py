"""The figures for a report: `python -m tests.lattice.specdiff_conformance`."""

from __future__ import annotations

from . import TOOLS, score

for tool in TOOLS:
    for documented in (False, True):
        s = score(tool, documented)
        label = "with documented differences" if documented else "raw"
        print(
            f"{tool} ({label}): {s.pairs} pairs, agreement {s.agreement:.3f}, "
            f"precision {s.precision:.3f}, recall {s.recall:.3f}, documented {s.documented}"
        )
    for line in score(tool, False).undocumented:
        print("  ", line)
