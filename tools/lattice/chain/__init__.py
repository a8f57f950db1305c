"""Owns: the document chain (models -> schemas -> OpenAPI -> SDK): the spec guard, spec diff, SDK generation.
May import: tools.lattice.{config, seam}.
"""
