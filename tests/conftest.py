"""The lattice's fixtures come from tools/lattice/plugin.py (the pytest11 entry point `lattice`)."""
