"""Mutation testing on the lattice: which small changes to `app/` some test notices (`nox -s mutate`)."""
