"""The lattice's fixtures come from tools/lattice/plugin.py (loaded by pyproject's addopts)."""
