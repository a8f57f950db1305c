"""Owns: the seam to the application under test (`Target`, its loading) and the signed-in accounts it makes.
May import: tools.lattice.config (never the application: it is reached through the Target).
"""
