"""Owns: the suites' engines: contract, race, perf, mutate, peer, foreign mode, promotion to the bank.
May import: tools.lattice.{config, services, seam, planes, plugin, live, chain}.
"""
