"""The live suite's fixtures come from tools/lattice/livefixtures.py (the plumbing lives there)."""

from tools.lattice.livefixtures import live, live_stack

__all__ = ["live", "live_stack"]
