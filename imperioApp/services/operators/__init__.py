"""Operators: what an admin may do, each with its audit row.

Decides adjustments, locks, sanctions and integrity views (`actions`) and the append-only
record of them (`audit`).

May import: every other wing.
"""
