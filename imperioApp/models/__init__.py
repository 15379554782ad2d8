"""Database models, one module per aggregate."""

from .game import GAME_TYPES, FairnessSeed, GameRound
from .ledger import LEDGER_TYPES, IdempotencyRecord, LedgerEntry
from .user import ROLES, RevokedToken, User

__all__ = [
    "GAME_TYPES",
    "LEDGER_TYPES",
    "ROLES",
    "FairnessSeed",
    "GameRound",
    "IdempotencyRecord",
    "LedgerEntry",
    "RevokedToken",
    "User",
]
