"""Owns: the planes an environment isolates on (schema, Redis namespace, queue suffix, files), reset, reaping.
May import: tools.lattice.{config, seam}.
"""
