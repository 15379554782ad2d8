"""Abandoned rounds end: an open blackjack round with no action for ROUND_ABANDON_MINUTES.

The server completes it with the rules' default, standing on every hand left, through the
one settlement path (`play.expire_abandoned`), so it is recalled, scored and announced like
any other round and its wager is not held forever. Two ways reach it, and the claim makes
them end each round exactly once across processes:

- lazily, when the player comes back to it: an action on it (409 round_expired), or the
  recall of their rounds (`recall.history`, `recall.get_round`);
- the periodic sweep, `flask rounds expire` (imperio-rounds-expire.timer, every minute).
"""

from sqlalchemy import func, select

from ...models import GameRound
from ..core.unit_of_work import atomic
from . import play

_rounds = GameRound.__table__


def is_abandoned(row):
    """True for an open blackjack round (a recall row with `last_action`) past its deadline."""
    return row.game_type == "blackjack" and row.status == "open" and row.last_action < play.abandoned_before()


def last_action():
    """The column recall reads so that `is_abandoned` needs no statement of its own."""
    return func.coalesce(_rounds.c.last_action_at, _rounds.c.created_at).label("last_action")


def expire(round_ids):
    """End those of `round_ids` still abandoned; return the SettledRounds of those this call ended."""
    ended = []
    for round_id in round_ids:
        result = play.expire_abandoned(round_id)
        if result is not None:
            ended.append(result)
    return ended


def sweep(*, batch=100):
    """End every abandoned round now, a batch at a time; return how many this run ended."""
    total = 0
    while True:
        with atomic() as session:
            ids = (
                session.execute(
                    select(_rounds.c.id)
                    .where(
                        _rounds.c.status == "open",
                        _rounds.c.game_type == "blackjack",
                        func.coalesce(_rounds.c.last_action_at, _rounds.c.created_at) < play.abandoned_before(),
                    )
                    .order_by(_rounds.c.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
        ended = len(expire(ids))
        total += ended
        if len(ids) < batch or not ended:
            return total
