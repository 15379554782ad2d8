"""Database models, one module per aggregate."""

from .chat import CHAT_ROOMS, ChatMessage, ChatSanction
from .engagement import (
    ALL_GAMES,
    LEADERBOARD_METRICS,
    NOTIFICATION_TYPES,
    Achievement,
    LeaderboardEntry,
    Notification,
    UserAchievement,
    UserStats,
)
from .game import GAME_TYPES, FairnessSeed, GameRound
from .ledger import LEDGER_TYPES, IdempotencyRecord, LedgerEntry
from .protection import (
    EXCLUSION_KINDS,
    LIMIT_KINDS,
    LIMIT_PERIODS,
    AdminAudit,
    LimitChange,
    PlayerExclusion,
    PlayerLimit,
    RealityCheck,
)
from .session import AuthSession
from .user import ROLES, User

__all__ = [
    "AuthSession",
    "ALL_GAMES",
    "LEADERBOARD_METRICS",
    "NOTIFICATION_TYPES",
    "Achievement",
    "LeaderboardEntry",
    "Notification",
    "UserAchievement",
    "UserStats",
    "CHAT_ROOMS",
    "ChatMessage",
    "ChatSanction",
    "GAME_TYPES",
    "LEDGER_TYPES",
    "ROLES",
    "FairnessSeed",
    "GameRound",
    "IdempotencyRecord",
    "LedgerEntry",
    "User",
    "EXCLUSION_KINDS",
    "LIMIT_KINDS",
    "LIMIT_PERIODS",
    "AdminAudit",
    "LimitChange",
    "PlayerExclusion",
    "PlayerLimit",
    "RealityCheck",
]
