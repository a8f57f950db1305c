"""Owns: the pytest plugin (fixtures, guards, per-worker state, telemetry, step counts, shards, child runs).
May import: tools.lattice.{config, services, seam, planes}.
"""
