"""Seed pairs per player: publish the hash, consume nonces, rotate and reveal, verify.

The engines' algorithm is documented in `imperioApp.games.fairness`. Here live the rules
around it: a player always has one active pair; each round consumes the next nonce inside
the round's own transaction (a refused round consumes none); a server seed is revealed only
by rotation, and never while a round that drew from it is still open.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, exists, select, update

from ... import games
from ...adapters import driver
from ...adapters.upserts import DIALECT_INSERTS
from ...games import fairness as rng
from ...models import FairnessSeed, GameRound
from ...models.base import utcnow
from ..core.errors import Conflict, ValidationFailed
from ..core.unit_of_work import after_commit, atomic

_seeds = FairnessSeed.__table__
_rounds = GameRound.__table__


@dataclass(frozen=True)
class Draw:
    """The fairness inputs of one round."""

    # None when an open round continues from its stored state: nothing then moves its seed row.
    seed_id: int | None
    server_seed: str
    server_seed_hash: str
    client_seed: str
    nonce: int

    def rng(self):
        """The round's provably fair random stream."""
        return rng.FairRNG(self.server_seed, self.client_seed, self.nonce)

    def following(self):
        """The draw after this one: same pair, next nonce."""
        # Built directly: dataclasses.replace inspects the fields on every call.
        return Draw(self.seed_id, self.server_seed, self.server_seed_hash, self.client_seed, self.nonce + 1)


# --- the next draw, expected ------------------------------------------------------------
#
# A round must know its nonce before the engine runs, so claiming it costs a statement of
# its own before the settlement statement. A process that settled a player's last round
# knows what their next draw should be; a round can then run the engine on that expected
# draw and let the settlement statement claim it (`CLAIM_EXPECTED`), in one round trip
# with everything else. The claim names the seed pair, the nonce and the client seed it
# expects: if any of them moved (a round settled by another process, a rotation, a new
# client seed), it claims nothing, the statement writes nothing, and the round draws the
# usual way in the same transaction. The database decides; the expectation only saves a
# round trip when it is right.

_EXPECTED = "imperio.expected_draws"
EXPECTED_DRAWS_KEPT = 100_000  # players per process; past it the oldest are forgotten

# A CTE term of the settlement statement (psycopg2 parameters); it returns a row only if
# the pair is still the player's active one, at the expected nonce and client seed.
CLAIM_EXPECTED = (
    "UPDATE fairness_seeds SET nonce = nonce + 1 WHERE id = %(seed_id)s AND user_id = %(user_id)s AND active "
    "AND nonce = %(nonce)s AND client_seed = %(client_seed)s RETURNING id"
)


def _expected_draws():
    return current_app.extensions.setdefault(_EXPECTED, {})


def expected_draw(user_id):
    """The player's next draw as this process last saw it, or None."""
    return _expected_draws().get(user_id)


def expect_next_after_commit(user_id, draw):
    """Once the round that used `draw` commits, expect the draw after it."""
    following = draw.following()

    def remember():
        expected = _expected_draws()
        if len(expected) >= EXPECTED_DRAWS_KEPT and user_id not in expected:
            del expected[next(iter(expected))]
        expected[user_id] = following

    after_commit(remember)


def forget_expected_draw(user_id):
    """Drop the player's expected draw (their pair changed here)."""
    _expected_draws().pop(user_id, None)


def forget_expected_draws(app):
    """Drop every expected draw of `app` (tests: ids restart with the tables)."""
    app.extensions.pop(_EXPECTED, None)


def ensure_seed(user_id, client_seed=None):
    """Create the player's active pair if there is none (safe under concurrency)."""
    server_seed = rng.generate_server_seed()
    with atomic() as session:
        session.execute(
            DIALECT_INSERTS[session.get_bind().dialect.name](_seeds)
            .values(
                user_id=user_id,
                server_seed=server_seed,
                server_seed_hash=rng.hash_server_seed(server_seed),
                client_seed=client_seed or rng.generate_client_seed(),
                nonce=0,
                active=True,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["user_id"], index_where=_seeds.c.active)
        )


def _on_active_seed(user_id, statement):
    """Run `statement` (bound to the player's active pair) and return its row.

    Sign-up creates the first pair, so the pair is created here only for an account that
    has none: reads and rounds do not pay for a write they do not need.
    """
    with atomic() as session:
        row = session.connection().execute(statement, {"owner": user_id}).one_or_none()
        if row is None:
            ensure_seed(user_id)
            row = session.connection().execute(statement, {"owner": user_id}).one()
    return row


_PUBLIC_FIELDS = (_seeds.c.server_seed_hash, _seeds.c.client_seed, _seeds.c.nonce)
_CURRENT = select(*_PUBLIC_FIELDS).where(_seeds.c.user_id == bindparam("owner"), _seeds.c.active)


PUBLIC_FIELDS = ("server_seed_hash", "client_seed", "nonce")


def public_fields(source):
    """The public fairness inputs (seed hash, client seed, nonce) of a seed pair, a draw or a round."""
    return {name: getattr(source, name) for name in PUBLIC_FIELDS}


def current(user_id):
    """The active pair as the player may see it: hash, client seed and next nonce."""
    return public_fields(_on_active_seed(user_id, _CURRENT))


# Built once: every round runs it.
_NEXT_NONCE = (
    update(_seeds)
    .where(_seeds.c.user_id == bindparam("owner"), _seeds.c.active)
    .values(nonce=_seeds.c.nonce + 1)
    .returning(_seeds.c.id, _seeds.c.server_seed, _seeds.c.server_seed_hash, _seeds.c.client_seed, _seeds.c.nonce)
)


_NEXT_NONCE_SQL = driver.Prebuilt(_NEXT_NONCE, prepared={})


def draw(user_id):
    """Consume the next nonce of the player's active pair, inside the caller's transaction."""
    # On the driver: a round's first statement (on PostgreSQL it also opens the transaction).
    with atomic() as session:
        row = driver.execute(session, _NEXT_NONCE_SQL, {"owner": user_id}).fetchone()
    if row is None:
        row = _on_active_seed(user_id, _NEXT_NONCE)
    seed_id, server_seed, server_seed_hash, client_seed, nonce = row
    return Draw(seed_id, server_seed, server_seed_hash, client_seed, nonce - 1)


def redraw(seed_id, nonce):
    """The Draw of an earlier round of this seed pair (a shared table's spin, settled later)."""
    with atomic() as session:
        row = session.execute(
            select(_seeds.c.server_seed, _seeds.c.server_seed_hash, _seeds.c.client_seed).where(_seeds.c.id == seed_id)
        ).one()
    return Draw(seed_id, row.server_seed, row.server_seed_hash, row.client_seed, nonce)


def set_client_seed(user_id, client_seed):
    """Change the client seed of the active pair; later rounds use it."""
    statement = (
        update(_seeds)
        .where(_seeds.c.user_id == bindparam("owner"), _seeds.c.active)
        .values(client_seed=_valid_client_seed(client_seed))
        .returning(*_PUBLIC_FIELDS)
    )
    forget_expected_draw(user_id)
    return public_fields(_on_active_seed(user_id, statement))


def rotate(user_id, client_seed=None):
    """Reveal the active server seed and start a new pair at nonce 0.

    Refused while a round that drew from the active seed is open: revealing the seed would
    reveal a blackjack round's remaining cards, or a shared table's spin before it settles.
    """
    if client_seed is not None:
        client_seed = _valid_client_seed(client_seed)
    with atomic() as session:
        old = _on_active_seed(
            user_id, select(_seeds).where(_seeds.c.user_id == bindparam("owner"), _seeds.c.active).with_for_update()
        )
        open_round = session.execute(select(exists().where(_rounds.c.seed_id == old.id, _rounds.c.status == "open"))).scalar()
        if open_round:
            raise Conflict(
                "a round drawn from this seed is still open (a blackjack game, or a shared roulette "
                "spin taking bets): rotating now would reveal its outcome; finish it first",
                code="open_round",
            )
        now = utcnow()
        session.execute(update(_seeds).where(_seeds.c.id == old.id).values(active=False, revealed_at=now))
        ensure_seed(user_id, client_seed or old.client_seed)
    forget_expected_draw(user_id)
    return {
        "revealed": {
            "server_seed": old.server_seed,
            "server_seed_hash": old.server_seed_hash,
            "client_seed": old.client_seed,
            "rounds_played": old.nonce,
            "revealed_at": now.isoformat(),
        },
        "active": current(user_id),
    }


def revealed_seed(server_seed_hash):
    """The server seed behind this hash if it has been revealed, else None."""
    with atomic() as session:
        return session.execute(
            select(_seeds.c.server_seed).where(_seeds.c.server_seed_hash == server_seed_hash, _seeds.c.revealed_at.is_not(None))
        ).scalar_one_or_none()


def verify(game_name, server_seed, client_seed, nonce, inputs):
    """Recompute a round's outcome from its revealed inputs (pure; anyone may call it)."""
    result = games.verify(game_name, server_seed, client_seed, nonce, inputs)
    result["seed_revealed_here"] = revealed_seed(result["server_seed_hash"]) == server_seed
    return result


def _valid_client_seed(client_seed):
    try:
        return rng.validate_client_seed(client_seed)
    except games.GameError as exc:
        raise ValidationFailed(str(exc), code="invalid_client_seed") from None
