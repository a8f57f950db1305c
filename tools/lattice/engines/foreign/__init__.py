"""Foreign mode: another project's own pytest suite, unmodified, in parallel on a lattice service set.

`python -m tools.lattice.engines.foreign --config FILE` runs it in a fresh copy of the project (files it
writes there are named and fail the run); the plugin (`pytest -p tools.lattice.engines.foreign.plugin
--lattice-foreign-config FILE`) gives every xdist worker a database (or schema) of its own, made
before the foreign conftest is imported, signs the suite in as a role of the run's own, names anything
that role left on the server, and drops it all at the end. See docs/testing.md, "Foreign mode".
"""
