"""pytest plugin of the lattice (loaded with `-p tools.lattice.plugin`)."""
