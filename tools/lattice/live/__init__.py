"""Owns: the live stack (the target's API and worker over real ports), its fixtures, `serve`, the fault plane.
May import: tools.lattice.{config, services, seam, planes, plugin}.
"""
