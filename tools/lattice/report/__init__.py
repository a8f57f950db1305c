"""Owns: the reports: coverage per suite and of changed lines, many runs' logs merged, the dashboard, alerts.
May import: nothing.
"""
