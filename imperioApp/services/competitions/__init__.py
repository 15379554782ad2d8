"""Competitions: tournaments and races scored from settled rounds, with fees and prizes through the ledger.

- `tournaments`: definitions and their periods, validation, the clock, listings.
- `scoring`: the one statement settlement runs for competing players, and the recomputation
  from the rounds table with the check that compares the two.
- `entries`: joining (entry fee, protection) and refunds.
- `closing`: closing a period exactly once, ranking, paying prizes once per rank, cancelling.
- `standings`: live standings, "around me" and results.
"""
