"""Player statistics, kept as running totals by settlement and read without scanning the ledger.

One `user_stats` row per game the player has played, plus the overall row ('all'). Each
settled round upserts both rows in one statement (INSERT .. ON CONFLICT DO UPDATE ..
RETURNING), so the totals move in the round's own transaction and the new values come
back for achievement evaluation without another query. A round is *won* when its payout
exceeds its bet; a loss or a push ends the current win streak.
"""

from sqlalchemy import case, select

from ...adapters import caching, upserts
from ...games import GAMES
from ...models import ALL_GAMES, GAME_TYPES, UserStats
from ..core import lagging
from ..core.errors import NotFound, require_choice
from ..core.unit_of_work import atomic

_stats = UserStats.__table__
GAME_BITS = {game: 1 << index for index, game in enumerate(GAME_TYPES)}
CACHE_TTL = 1  # seconds: a settled round shows in statistics within a second


def signature_hit(game_type, outcome):
    """True if the round's public outcome is its game's best, as its engine says (`games.GAMES`)."""
    engine = GAMES.get(game_type)
    return engine is not None and engine.signature_hit(outcome)


def round_totals(result, *, now):
    """What one settled round adds to a stats row (the values a fresh row starts from)."""
    won = result.net > 0
    return {
        "games_played": 1,
        "games_won": int(won),
        "total_wagered": result.bet,
        "total_won": result.payout,
        "biggest_win": max(result.net, 0),
        "current_streak": int(won),
        "best_streak": int(won),
        "big_wins": int(result.big_win),
        "signature_hits": int(signature_hit(result.game_type, result.outcome)),
        "games_mask": GAME_BITS[result.game_type],
        "achievements_mask": 0,
        "last_played_at": now,
    }


def _on_conflict(old, new):
    return {
        "games_played": old.games_played + new.games_played,
        "games_won": old.games_won + new.games_won,
        "total_wagered": old.total_wagered + new.total_wagered,
        "total_won": old.total_won + new.total_won,
        "biggest_win": case((new.biggest_win > old.biggest_win, new.biggest_win), else_=old.biggest_win),
        # Every SET expression reads the row as it was before this update.
        "current_streak": case((new.current_streak > 0, old.current_streak + 1), else_=0),
        "best_streak": case(
            ((new.current_streak > 0) & (old.current_streak + 1 > old.best_streak), old.current_streak + 1),
            else_=old.best_streak,
        ),
        "big_wins": old.big_wins + new.big_wins,
        "signature_hits": old.signature_hits + new.signature_hits,
        "games_mask": old.games_mask.op("|")(new.games_mask),
        "last_played_at": new.last_played_at,
    }


_TOTALS = [column.name for column in _stats.c if column.name not in ("user_id", "game_type")]
# The overall row and the game's row, in one statement sharing one set of parameters;
# returns what achievement evaluation needs.
UPSERT = upserts.Upsert(
    _stats,
    rows=[
        {
            "user_id": upserts.param(_stats, "user_id"),
            "game_type": game,
            **{column: upserts.param(_stats, column) for column in _TOTALS},
        }
        for game in (upserts.constant(_stats, "game_type", ALL_GAMES), upserts.param(_stats, "game_type"))
    ],
    conflict=("user_id", "game_type"),
    set_=_on_conflict,
    returning=(
        _stats.c.game_type,
        _stats.c.games_played,
        _stats.c.total_wagered,
        _stats.c.best_streak,
        _stats.c.big_wins,
        _stats.c.signature_hits,
        _stats.c.games_mask,
        _stats.c.achievements_mask,
    ),
)


def upsert_params(result, *, now):
    """The parameters of UPSERT for one settled round."""
    return {"user_id": result.user_id, "game_type": result.game_type, **round_totals(result, now=now)}


def record(result, *, now):
    """Add a settled round to the player's overall and game rows; return them (overall, game) as upserted."""
    with atomic() as session:
        returned = UPSERT.execute(session.connection(), upsert_params(result, now=now))
    by_game = {row.game_type: row for row in returned}
    return by_game[ALL_GAMES], by_game[result.game_type]


def stats_rows(user_id):
    """The player's stats rows keyed by game type ('all' included), from the database (a replica may answer)."""
    query = select(_stats).where(_stats.c.user_id == user_id)
    rows = lagging.read(lambda connection: connection.execute(query).all(), own=user_id)
    return {row.game_type: row for row in rows}


def summary(row):
    """The public shape of one stats row (or of no rounds at all, for None)."""
    if row is None:
        return {
            "games_played": 0,
            "games_won": 0,
            "win_rate": 0.0,
            "total_wagered": 0,
            "total_won": 0,
            "net": 0,
            "biggest_win": 0,
            "current_streak": 0,
            "best_streak": 0,
            "big_wins": 0,
            "signature_hits": 0,
        }
    return {
        "games_played": row.games_played,
        "games_won": row.games_won,
        # A ratio, not money: the one float here.
        "win_rate": round(row.games_won / row.games_played, 4) if row.games_played else 0.0,
        "total_wagered": row.total_wagered,
        "total_won": row.total_won,
        "net": row.total_won - row.total_wagered,
        "biggest_win": row.biggest_win,
        "current_streak": row.current_streak,
        "best_streak": row.best_streak,
        "big_wins": row.big_wins,
        "signature_hits": row.signature_hits,
    }


def overview(user_id):
    """Overall and per-game statistics (cached for CACHE_TTL seconds)."""

    def compute():
        rows = stats_rows(user_id)
        return {
            "overall": summary(rows.get(ALL_GAMES)),
            "games": {game: summary(rows.get(game)) for game in GAME_TYPES},
        }

    return caching.remember(f"stats:{user_id}", caching.ttl("STATISTICS_CACHE_TTL", CACHE_TTL), compute)


def for_game(user_id, game_type):
    """One game's statistics; NotFound for a game that does not exist."""
    require_choice(game_type, GAME_TYPES, what="game", code="unknown_game", error=NotFound)
    return {"game_type": game_type, **overview(user_id)["games"][game_type]}
