"""What a settled round changes besides money, written in the round's own transaction.

Settlement (`settlement.settle`) scores every settled round: the statistics upsert (two
rows) and the leaderboard upsert (up to nine rows), both returning what they wrote (on
PostgreSQL inside the settlement statement itself, elsewhere by `record_settled_round`);
then `award` evaluates achievements from the returned rows in Python, and only a round
that unlocks an achievement or wins big adds the unlock insert, the unlocked-mask update
and one notifications insert. Events and the Redis index wait for the commit.
"""

from ..core.unit_of_work import atomic
from . import achievements, leaderboards, notifications, statistics


def record_settled_round(result, *, now=None):
    """Update statistics, leaderboards, achievements and notifications for a settled round.

    Returns the round's leaderboard index writes, for after the commit.
    """
    now = now or leaderboards.clock()
    with atomic():
        overall, game = statistics.record(result, now=now)
        writes = leaderboards.record(result, now=now, version=overall.games_played)
        award(result, overall, game)
    return writes


def award(result, overall, game):
    """Unlock the achievements a scored round made due, and notify them and a big win."""
    values = achievements.facts(overall, {result.game_type: game}, result.balance)
    unlocked = achievements.unlock_due(result.user_id, values, overall.achievements_mask)
    notes = [("achievement", {"achievement": achievements.public(item)}) for item in unlocked]
    if result.big_win:
        notes.append(("big_win", {"round_id": result.round_id, "game_type": result.game_type, "amount": result.net}))
    notifications.create(result.user_id, notes)
