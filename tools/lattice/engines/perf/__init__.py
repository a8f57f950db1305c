"""Perf plumbing for `nox -s perf`: load generation, percentiles, budgets, history, baseline, plot.

The benchmarks themselves live in tests/perf/; each module here does one job for them.
"""
