"""What a settled round changes besides money, written in the round's own transaction.

The settlement hook (`play._announce`) calls `record_settled_round` for every settled
round. Statements per round: the statistics upsert (two rows) and the leaderboard upsert
(up to nine rows), both returning what they wrote; only a round that unlocks an
achievement or wins big adds the unlock insert, the unlocked-mask update and one
notifications insert. Everything else — achievement evaluation, period keys — is
computed in Python from the returned rows; events and the Redis index wait for the commit.
"""

from flask import current_app

from . import achievements, leaderboards, notifications, statistics
from .unit_of_work import atomic


def record_settled_round(result):
    """Update statistics, leaderboards, achievements and notifications for a settled round."""
    now = leaderboards.clock()
    threshold = current_app.config["BIG_WIN_THRESHOLD"]
    with atomic():
        overall, game = statistics.record(result, big_win_threshold=threshold, now=now)
        leaderboards.record(result, now=now, version=overall.games_played)
        values = achievements.facts(overall, {result.game_type: game}, result.balance)
        unlocked = achievements.unlock_due(result.user_id, values, overall.achievements_mask)
        notes = [("achievement", {"achievement": achievements.public(item)}) for item in unlocked]
        if result.net >= threshold:
            notes.append(
                ("big_win", {"round_id": result.round_id, "game_type": result.game_type, "amount": result.net})
            )
        notifications.create(result.user_id, notes)
