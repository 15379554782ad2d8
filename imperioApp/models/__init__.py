"""Database models, one module per aggregate."""

from .chat import CHAT_ROOMS, ChatMessage, ChatSanction
from .competition import (
    PERIOD_STATUSES,
    PRIZE_MODES,
    TOURNAMENT_METRICS,
    Tournament,
    TournamentEntry,
    TournamentPeriod,
)
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
from .ledger import LEDGER_TYPES, TOURNAMENT_LEDGER_TYPES, IdempotencyRecord, LedgerEntry
from .operators import ADJUSTMENT_STATUSES, OperatorRecoveryCode, OperatorSecondFactor, PendingAdjustment
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
from .rollup import GameHour, GameHourWin, LedgerCheckpoint, Watermark
from .session import AuthSession
from .user import OPERATOR_ROLES, ROLES, User

__all__ = [
    "ADJUSTMENT_STATUSES",
    "OPERATOR_ROLES",
    "OperatorRecoveryCode",
    "OperatorSecondFactor",
    "PendingAdjustment",
    "PERIOD_STATUSES",
    "PRIZE_MODES",
    "TOURNAMENT_LEDGER_TYPES",
    "TOURNAMENT_METRICS",
    "Tournament",
    "TournamentEntry",
    "TournamentPeriod",
    "AuthSession",
    "GameHour",
    "GameHourWin",
    "LedgerCheckpoint",
    "Watermark",
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
