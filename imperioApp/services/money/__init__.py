"""Money: every coin that moves, and the fairness of every draw.

Decides balance changes and their ledger rows under the row lock (`wallet`), seed pairs,
nonces and verification (`fairness`), replaying a repeated Idempotency-Key (`idempotency`)
and a player's ledger as read back (`ledger`).

May import: core.
"""
