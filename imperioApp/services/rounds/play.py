"""Playing a round: one database transaction from bet to settlement.

Inside the transaction: consume the player's next nonce, run the pure engine on the
provably fair stream, then hand the step to `settlement.settle`, which writes the round,
the money and the scores. On PostgreSQL a new round first tries the draw this process
expects to be next, claimed by the settlement statement itself (see
`fairness.expected_draw`). A refused round (bad input, insufficient funds, an illegal
action) rolls back whole: no coin moves, no nonce is consumed. `idempotency_key` is the
request's key, recorded on the ledger rows of the money it moves.
"""

from collections import namedtuple
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select

from ...adapters import driver
from ...games import blackjack, roulette, slots
from ...models import FairnessSeed, GameRound
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.unit_of_work import atomic
from ..money import fairness, wallet
from . import settlement
from .settlement import SettledRound, Step

__all__ = ["SettledRound"]
_rounds = GameRound.__table__
_seeds = FairnessSeed.__table__


def _check_limit(amount, limit, what):
    if amount > limit:
        raise ValidationFailed(f"{what} exceeds the table maximum of {limit}", code="above_table_limit")


def _settle_new_round(user_id, step_for, idempotency_key):
    """Draw, then settle the new round `step_for(draw)` describes (the engine runs in it)."""
    with atomic() as session:
        if not settlement.claims_draws(session):  # SQLite: no round trips to save
            return settlement.settle(step_for(fairness.draw(user_id)), idempotency_key=idempotency_key)
        expected = fairness.expected_draw(user_id)
        if expected is not None:
            result = settlement.settle(step_for(expected), idempotency_key=idempotency_key, claim_draw=True)
            if result is not None:
                fairness.expect_next_after_commit(user_id, expected)
                return result
        draw = fairness.draw(user_id)
        result = settlement.settle(step_for(draw), idempotency_key=idempotency_key)
        fairness.expect_next_after_commit(user_id, draw)
        return result


def _play_instant(user_id, game_type, bet, inputs, run_engine, idempotency_key, reach):
    """Settle a one-shot round (slots, roulette): run_engine(rng) -> (outcome dict, payout).

    `reach`: the most the round can pay, whatever the outcome (for the balance ceiling).
    """

    def step_for(draw):
        outcome, payout = run_engine(draw.rng())
        return Step(
            user_id,
            game_type,
            bet,
            payout,
            inputs,
            outcome,
            fairness.public_fields(draw),
            stake=bet,
            win=payout,
            seed_id=draw.seed_id,
            reach=reach,
        )

    return _settle_new_round(user_id, step_for, idempotency_key)


def spin_slots(user_id, bet=1, *, idempotency_key=None):
    """Spin Cherry Charm for `bet` coins."""
    wallet.validate_amount(bet, field="bet")
    _check_limit(bet, current_app.config[slots.STAKE_LIMIT_SETTING], "bet")

    def run(rng):
        outcome = slots.spin(rng, bet)
        return outcome.to_dict(), outcome.payout

    return _play_instant(user_id, "slots", bet, {"bet": bet}, run, idempotency_key, slots.max_payout(bet))


def parse_roulette_bets(raw_bets, *, legacy=False):
    """The `roulette.Bet`s of a request's raw bet list (legacy: the old client's {amt, numbers} entries)."""
    if not isinstance(raw_bets, list):
        raise ValidationFailed("bets must be a list", code="validation_error")
    if legacy:
        # The old client keeps a 0 entry when a chip is taken back off the table.
        raw_bets = [bet for bet in raw_bets if bet["amt"] > 0]
    # The one bet-count rule of every entry point (REST, the old client, shared tables),
    # checked before any bet is parsed; /openapi.json states the same setting as maxItems.
    limit = current_app.config["ROULETTE_MAX_BETS"]
    if len(raw_bets) > limit:
        raise ValidationFailed(f"at most {limit} bets per spin", code="too_many_bets")
    parse = roulette.legacy_bet if legacy else roulette.parse_bet
    return [parse(bet) for bet in raw_bets]


def roulette_stake(bets):
    """Check one player's parsed bets on a spin against the table limits; return (total, inputs)."""
    if not bets:
        raise ValidationFailed("place at least one bet", code="no_bets")
    total = sum(bet.amount for bet in bets)
    _check_limit(total, current_app.config[roulette.STAKE_LIMIT_SETTING], "the total bet")
    return total, {"bets": [{"type": b.type, "numbers": list(b.numbers), "amount": b.amount} for b in bets]}


def spin_roulette(user_id, raw_bets, *, legacy=False, idempotency_key=None):
    """Spin the wheel once for a request's raw bets (see `parse_roulette_bets`)."""
    bets = parse_roulette_bets(raw_bets, legacy=legacy)
    total, inputs = roulette_stake(bets)

    def run(rng):
        outcome = roulette.play(rng, bets)
        return outcome.to_dict(), outcome.total_payout

    return _play_instant(user_id, "roulette", total, inputs, run, idempotency_key, roulette.max_payout(bets))


def start_blackjack(user_id, wager, *, idempotency_key=None):
    """Deal a new blackjack round; naturals settle at once."""
    wallet.validate_amount(wager, field="wager")
    _check_limit(wager, current_app.config[blackjack.STAKE_LIMIT_SETTING], "wager")

    def step_for(draw):
        game = blackjack.start(draw.rng(), wager)
        payout = blackjack.total_payout(game) if game.over else 0
        return Step(
            user_id,
            "blackjack",
            wager,
            payout,
            {"wager": wager, "actions": []},
            blackjack.record(game),
            fairness.public_fields(draw),
            stake=wager,
            win=payout,
            settled=game.over,
            hidden_state=None if game.over else game.to_dict(),
            seed_id=draw.seed_id,
            public_outcome=blackjack.public_view(game),
            reach=blackjack.max_payout(wager),
        )

    return _settle_new_round(user_id, step_for, idempotency_key)


_BlackjackRow = namedtuple(
    "_BlackjackRow", "id user_id status inputs hidden_state server_seed_hash client_seed nonce abandoned server_seed"
)
_LAST_ACTION = func.coalesce(_rounds.c.last_action_at, _rounds.c.created_at)


def _blackjack_rows():
    # The round's server seed rebuilds its shoe (the seed pair cannot rotate while the round
    # is open); `abandoned`: no action since before `cutoff`.
    return (
        select(
            *(_rounds.c[name] for name in _BlackjackRow._fields[:-2]),
            (_LAST_ACTION < bindparam("cutoff")).label("abandoned"),
            _seeds.c.server_seed,
        )
        .select_from(_rounds.join(_seeds, _seeds.c.id == _rounds.c.seed_id))
        .where(_rounds.c.id == bindparam("round_id"), _rounds.c.game_type == "blackjack")
    )


# The action's first statement: on the driver, it also opens the transaction.
_OPEN_BLACKJACK = driver.Prebuilt(
    _blackjack_rows().where(_rounds.c.user_id == bindparam("owner")).with_for_update(of=_rounds), prepared={}
)
# An abandoned round, claimed once: a round being acted on (locked) is skipped, one already
# ended no longer matches once the lock it waited for is released.
_CLAIM_ABANDONED = driver.Prebuilt(
    _blackjack_rows()
    .where(_rounds.c.status == "open", _LAST_ACTION < bindparam("cutoff"))
    .with_for_update(of=_rounds, skip_locked=True)
)


class RoundExpired(Conflict):
    code = "round_expired"


def abandoned_before():
    """An open blackjack round last acted on before this instant is abandoned."""
    return settlement.clock() - timedelta(minutes=current_app.config["ROUND_ABANDON_MINUTES"])


def act_blackjack(user_id, round_id, action, *, idempotency_key=None):
    """Apply hit / stand / double_down / split to the player's own open round.

    A round abandoned (no action for ROUND_ABANDON_MINUTES) is ended as the sweep would have
    ended it, by standing, and the action is refused: 409 round_expired.
    """
    action = blackjack.normalize_action(action)
    with atomic() as session:
        cutoff = driver.timestamp(driver.dialect_of(session), abandoned_before())
        found = driver.execute(session, _OPEN_BLACKJACK, {"round_id": round_id, "owner": user_id, "cutoff": cutoff}).fetchone()
        if found is None:
            raise NotFound("no such blackjack game", code="game_not_found")
        row = _BlackjackRow(*found)
        if row.status != "open":
            raise Conflict("this game is already over", code="game_over")
        if not row.abandoned:
            return _advance_blackjack(row, action, idempotency_key=idempotency_key)
        _advance_blackjack(row, None)
    minutes = current_app.config["ROUND_ABANDON_MINUTES"]
    raise RoundExpired(
        f"this game had no action for {minutes} minutes and ended: your hand stood (see GET /games/{round_id})",
        details={"round_id": round_id},
    )


def expire_abandoned(round_id):
    """End one abandoned blackjack round by the rules' default, standing; None if it is not (or no longer) abandoned.

    Exactly once across processes: the claim locks the round (skipping one being acted on)
    and matches only while it is open and stale; settlement writes it like any action.
    """
    with atomic() as session:
        cutoff = driver.timestamp(driver.dialect_of(session), abandoned_before())
        found = driver.execute(session, _CLAIM_ABANDONED, {"round_id": round_id, "cutoff": cutoff}).fetchone()
        if found is None:
            return None
        return _advance_blackjack(_BlackjackRow(*found), None)


def _advance_blackjack(row, action, *, idempotency_key=None):
    """Settle one step of an open round: `action`, or (None) stand on every hand left: the expiry."""
    drawn = fairness.Draw(None, row.server_seed, row.server_seed_hash, row.client_seed, row.nonce)
    game = blackjack.BlackjackGame.from_dict(driver.json_value(row.hidden_state), rng=drawn.rng())
    inputs = driver.json_value(row.inputs)
    if action is not None:
        actions, extra = [action], blackjack.extra_stake(game, action)
        blackjack.apply(game, action)
    else:
        actions, extra = [], 0
        while not game.over:
            actions.append("stand")
            blackjack.apply(game, "stand")
    payout = blackjack.total_payout(game)
    outcome = blackjack.record(game)
    public = blackjack.public_view(game)
    if action is None:
        outcome, public = {**outcome, "expired": True}, {**public, "message": f"Round expired: {public['message']}"}
    step = Step(
        row.user_id,
        "blackjack",
        blackjack.total_stake(game),
        payout,
        {**inputs, "actions": [*inputs["actions"], *actions]},
        outcome,
        fairness.public_fields(row),
        stake=extra,
        win=payout if game.over else 0,
        settled=game.over,
        hidden_state=None if game.over else game.to_dict(),
        round_id=row.id,
        public_outcome=public,
        reach=blackjack.max_payout(game.wager),
    )
    return settlement.settle(step, idempotency_key=idempotency_key)
