"""Database models, one module per aggregate."""

from .ledger import LEDGER_TYPES, IdempotencyRecord, LedgerEntry
from .user import ROLES, RevokedToken, User

__all__ = ["LEDGER_TYPES", "ROLES", "IdempotencyRecord", "LedgerEntry", "RevokedToken", "User"]
