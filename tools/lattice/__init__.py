"""The Retrace test lattice: service sets, per-worker isolation, telemetry, guards."""
