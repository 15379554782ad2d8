"""Game recall: a player's rounds, newest first, and any one of them in full."""

from sqlalchemy import select

from ...models import FairnessSeed, GameRound
from ..core import lagging
from ..core.errors import NotFound
from ..core.paging import keyset_page
from ..core.unit_of_work import atomic
from ..money import fairness
from . import expiry

_rounds = GameRound.__table__
_seeds = FairnessSeed.__table__

_COLUMNS = (
    _rounds.c.id,
    _rounds.c.game_type,
    _rounds.c.status,
    _rounds.c.bet,
    _rounds.c.payout,
    _rounds.c.created_at,
    _rounds.c.settled_at,
    _rounds.c.server_seed_hash,
    _rounds.c.client_seed,
    _rounds.c.nonce,
    expiry.last_action(),
)


def _summary(row):
    return {
        "id": row.id,
        "game_type": row.game_type,
        "status": row.status,
        "bet": row.bet,
        "payout": row.payout,
        "net": row.payout - row.bet if row.status == "settled" else None,
        "created_at": row.created_at,
        "settled_at": row.settled_at,
        "fairness": fairness.public_fields(row),
    }


def history(user_id, *, game_type=None, status=None, before=None, limit=20, may_lag=True):
    """One page of the player's rounds, newest first; `before` is the cursor (a round id).

    `may_lag`: the page may come from the replica (the player's own last round included).
    """
    query = select(*_COLUMNS).where(_rounds.c.user_id == user_id)
    if game_type:
        query = query.where(_rounds.c.game_type == game_type)
    if status:
        query = query.where(_rounds.c.status == status)
    if before is not None:
        query = query.where(_rounds.c.id < before)
    query = query.order_by(_rounds.c.id.desc()).limit(limit + 1)
    if may_lag:
        rows = lagging.read(lambda connection: connection.execute(query).all(), own=user_id)
    else:
        with atomic() as session:
            rows = session.execute(query).all()
    if expiry.expire([row.id for row in rows if expiry.is_abandoned(row)]):
        with atomic() as session:  # the player never finds an abandoned round holding their wager
            rows = session.execute(query).all()
    return keyset_page(rows, limit, _summary)


def latest_open_id(user_id, game_type):
    """The id of the player's newest open round of this game, or NotFound."""
    # Which round an action applies to is decided on the primary, never on a copy.
    items = history(user_id, game_type=game_type, status="open", limit=1, may_lag=False)["items"]
    if not items:
        raise NotFound(f"you have no open {game_type} round: start one first", code="round_not_found")
    return items[0]["id"]


def get_round(user_id, round_id):
    """Everything about one of the player's rounds; the server seed once it is revealed."""
    query = (
        select(*_COLUMNS, _rounds.c.inputs, _rounds.c.outcome, _seeds.c.server_seed, _seeds.c.revealed_at)
        .join(_seeds, _seeds.c.id == _rounds.c.seed_id)
        .where(_rounds.c.id == round_id, _rounds.c.user_id == user_id)
    )
    row = lagging.read(lambda connection: connection.execute(query).one_or_none(), own=user_id)
    if row is not None and expiry.is_abandoned(row) and expiry.expire([row.id]):
        with atomic() as session:
            row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("no such round", code="round_not_found")
    data = _summary(row)
    data["inputs"] = row.inputs
    data["outcome"] = row.outcome
    data["fairness"]["server_seed"] = row.server_seed if row.revealed_at is not None else None
    data["fairness"]["revealed_at"] = row.revealed_at
    return data
