"""Foreign mode: another project's own pytest suite, unmodified, in parallel on a lattice service set.

`python -m tools.lattice.foreign run --config FILE` (or `pytest -p tools.lattice.foreign.plugin
--lattice-foreign-config FILE`) gives every xdist worker a database (or schema) of its own, made before
the foreign conftest is imported, and drops them all at the end. See docs/testing.md, "Adopting the
lattice in your project".
"""
