"""Playing a round: one database transaction from bet to settlement.

Inside the transaction: consume the player's next nonce, run the pure engine on the
provably fair stream, write the `game_rounds` row, post the bet and the win to the wallet
(ledger rows in one statement), and record what the round changes elsewhere. After the
commit, `round_settled` (and `big_win`) go out on the event bus. A refused round (bad
input, insufficient funds, an illegal action) rolls back whole: no coin moves, no nonce
is consumed.
"""

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import insert, select, update

from ..games import blackjack, roulette, slots
from ..models import GameRound, User
from ..models.base import utcnow
from . import engagement, events, fairness, wallet
from .errors import Conflict, NotFound, ValidationFailed
from .unit_of_work import atomic
from .wallet import Movement

_rounds = GameRound.__table__
_users = User.__table__


@dataclass
class SettledRound:
    """What a finished (or advanced) round changed, for responses and subscribers."""

    round_id: int
    user_id: int
    game_type: str
    bet: int
    payout: int
    balance: int
    outcome: dict
    fairness: dict = field(default_factory=dict)
    settled: bool = True

    @property
    def net(self):
        """Coins won (positive) or lost (negative) over the round."""
        return self.payout - self.bet


def _check_limit(amount, limit, what):
    if amount > limit:
        raise ValidationFailed(f"{what} exceeds the table maximum of {limit}", code="above_table_limit")


def _fairness_fields(draw):
    return {"server_seed_hash": draw.server_seed_hash, "client_seed": draw.client_seed, "nonce": draw.nonce}


_INSERT_ROUND = insert(_rounds).returning(_rounds.c.id)


def _insert_round(session, user_id, game_type, draw, *, bet, payout, inputs, outcome, hidden_state=None, open_=False):
    now = utcnow()
    return session.connection().execute(
        _INSERT_ROUND,
        {
            "user_id": user_id,
            "game_type": game_type,
            "status": "open" if open_ else "settled",
            "bet": bet,
            "payout": payout,
            "inputs": inputs,
            "outcome": outcome,
            "hidden_state": hidden_state,
            "seed_id": draw.seed_id,
            "server_seed_hash": draw.server_seed_hash,
            "client_seed": draw.client_seed,
            "nonce": draw.nonce,
            "created_at": now,
            "settled_at": None if open_ else now,
        },
    ).scalar_one()


def _stake_and_win(stake, payout):
    movements = [Movement("bet", -stake)] if stake else []
    if payout:
        movements.append(Movement("win", payout))
    return movements


def _announce(result):
    """Record what a settled round changes besides money; queue its events for after the commit."""
    if not result.settled:
        return
    engagement.record_settled_round(result)
    payload = {
        "round_id": result.round_id,
        "user_id": result.user_id,
        "game_type": result.game_type,
        "bet": result.bet,
        "payout": result.payout,
        "net": result.net,
        "balance": result.balance,
    }
    events.publish_after_commit("round_settled", payload)
    if result.net >= current_app.config["BIG_WIN_THRESHOLD"]:
        with atomic() as session:
            username = session.execute(select(_users.c.username).where(_users.c.id == result.user_id)).scalar_one()
        events.publish_after_commit("big_win", {**payload, "username": username, "amount": result.net})


def _play_instant(user_id, game_type, bet, inputs, run_engine):
    """Settle a one-shot round (slots, roulette): run_engine(rng) -> (outcome dict, payout)."""
    with atomic() as session:
        draw = fairness.draw(user_id)
        outcome, payout = run_engine(draw.rng())
        round_id = _insert_round(session, user_id, game_type, draw, bet=bet, payout=payout, inputs=inputs, outcome=outcome)
        balance = wallet.post(user_id, _stake_and_win(bet, payout), game_type=game_type, round_id=round_id)
        result = SettledRound(round_id, user_id, game_type, bet, payout, balance, outcome, _fairness_fields(draw))
        _announce(result)
    return result


def spin_slots(user_id, bet=1):
    """Spin Cherry Charm for `bet` coins."""
    wallet.validate_amount(bet, field="bet")
    _check_limit(bet, current_app.config["SLOTS_MAX_BET"], "bet")

    def run(rng):
        outcome = slots.spin(rng, bet)
        return outcome.to_dict(), outcome.payout

    return _play_instant(user_id, "slots", bet, {"bet": bet}, run)


def _roulette_stake(bets):
    """Check one player's bets on a spin against the table limits; return (total, inputs)."""
    if not bets:
        raise ValidationFailed("place at least one bet", code="no_bets")
    if len(bets) > current_app.config["ROULETTE_MAX_BETS"]:
        raise ValidationFailed(f"at most {current_app.config['ROULETTE_MAX_BETS']} bets per spin", code="too_many_bets")
    total = sum(bet.amount for bet in bets)
    _check_limit(total, current_app.config["ROULETTE_MAX_TOTAL_BET"], "the total bet")
    return total, {"bets": [{"type": b.type, "numbers": list(b.numbers), "amount": b.amount} for b in bets]}


def spin_roulette(user_id, bets):
    """Spin the wheel once for validated `roulette.Bet`s."""
    total, inputs = _roulette_stake(bets)

    def run(rng):
        outcome = roulette.play(rng, bets)
        return outcome.to_dict(), outcome.total_payout

    return _play_instant(user_id, "roulette", total, inputs, run)


def start_blackjack(user_id, wager):
    """Deal a new blackjack round; naturals settle at once."""
    wallet.validate_amount(wager, field="wager")
    _check_limit(wager, current_app.config["BLACKJACK_MAX_WAGER"], "wager")
    with atomic() as session:
        draw = fairness.draw(user_id)
        game = blackjack.start(draw.rng(), wager)
        payout = blackjack.total_payout(game) if game.over else 0
        round_id = _insert_round(
            session,
            user_id,
            "blackjack",
            draw,
            bet=wager,
            payout=payout,
            inputs={"wager": wager, "actions": []},
            outcome=blackjack.record(game),
            hidden_state=None if game.over else game.to_dict(),
            open_=not game.over,
        )
        balance = wallet.post(user_id, _stake_and_win(wager, payout), game_type="blackjack", round_id=round_id)
        result = SettledRound(
            round_id, user_id, "blackjack", wager, payout, balance, blackjack.public_view(game),
            _fairness_fields(draw), settled=game.over,
        )
        _announce(result)
    return result


def act_blackjack(user_id, round_id, action):
    """Apply hit / stand / double_down / split to the player's own open round."""
    action = blackjack.normalize_action(action)
    with atomic() as session:
        row = session.execute(
            select(_rounds.c.status, _rounds.c.inputs, _rounds.c.hidden_state, _rounds.c.server_seed_hash,
                   _rounds.c.client_seed, _rounds.c.nonce)
            .where(_rounds.c.id == round_id, _rounds.c.user_id == user_id, _rounds.c.game_type == "blackjack")
            .with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound("no such blackjack game", code="game_not_found")
        if row.status != "open":
            raise Conflict("this game is already over", code="game_over")
        game = blackjack.BlackjackGame.from_dict(row.hidden_state)
        extra = blackjack.extra_stake(game, action)
        blackjack.apply(game, action)
        stake, payout = blackjack.total_stake(game), blackjack.total_payout(game)
        movements = _stake_and_win(extra, payout if game.over else 0)
        if movements:
            balance = wallet.post(user_id, movements, game_type="blackjack", round_id=round_id)
        else:
            balance = wallet.balance_of(user_id)
        now = utcnow()
        session.execute(
            update(_rounds)
            .where(_rounds.c.id == round_id)
            .values(
                status="settled" if game.over else "open",
                bet=stake,
                payout=payout,
                inputs={**row.inputs, "actions": [*row.inputs["actions"], action]},
                outcome=blackjack.record(game),
                hidden_state=None if game.over else game.to_dict(),
                settled_at=now if game.over else None,
            )
        )
        fairness_fields = {"server_seed_hash": row.server_seed_hash, "client_seed": row.client_seed, "nonce": row.nonce}
        result = SettledRound(
            round_id, user_id, "blackjack", stake, payout, balance, blackjack.public_view(game),
            fairness_fields, settled=game.over,
        )
        _announce(result)
    return result


# --- the shared roulette table ----------------------------------------------------------
# One spin settles every player's bets. The spin draws once, when its first bet is taken,
# from the room host's seed pair; each player's bet is an open roulette round recording
# that draw (seed, nonce), with the stake debited through the wallet at once. While any of
# those rounds is open the host cannot rotate the seed (fairness.rotate refuses), so the
# seed stays secret until after the spin. Settlement replays the draw for each round with
# the same engine as a solo spin, so each round verifies on its own with /fairness/verify.

def _table_draw_fields(draw):
    return {"seed_id": draw.seed_id, **_fairness_fields(draw)}


def _stake_table_bet(session, user_id, table_id, draw, bets):
    total, inputs = _roulette_stake(bets)
    round_id = _insert_round(
        session, user_id, "roulette", draw, bet=total, payout=0,
        inputs={**inputs, "table": table_id}, outcome={"table": table_id, "status": "betting"}, open_=True,
    )
    balance = wallet.post(user_id, [Movement("bet", -total)], game_type="roulette", round_id=round_id)
    return {"round_id": round_id, "bet": total, "balance": balance}


def open_table_spin(host_id, user_id, table_id, bets):
    """Draw a shared spin from the host's seed pair and stake its first bet; return (spin, stake)."""
    with atomic() as session:
        draw = fairness.draw(host_id)
        stake = _stake_table_bet(session, user_id, table_id, draw, bets)
    return _table_draw_fields(draw), stake


def place_table_bet(user_id, table_id, spin, bets):
    """Stake a player's bets on an opened shared spin (one placement per player per spin)."""
    with atomic() as session:
        wallet.lock(user_id)  # serialises one player's racing placements, so the check below holds
        taken = session.execute(
            select(_rounds.c.id).where(
                _rounds.c.seed_id == spin["seed_id"], _rounds.c.nonce == spin["nonce"],
                _rounds.c.user_id == user_id, _rounds.c.game_type == "roulette",
            )
        ).first()
        if taken is not None:
            raise Conflict("you have already bet on this spin", code="already_bet")
        draw = fairness.redraw(spin["seed_id"], spin["nonce"])
        return _stake_table_bet(session, user_id, table_id, draw, bets)


def settle_table_spin(seed_id, nonce):
    """Spin once and settle every open bet on it; return the SettledRounds (idempotent)."""
    results = []
    with atomic() as session:
        rows = session.execute(
            select(_rounds.c.id, _rounds.c.user_id, _rounds.c.bet, _rounds.c.inputs)
            .where(_rounds.c.seed_id == seed_id, _rounds.c.nonce == nonce,
                   _rounds.c.status == "open", _rounds.c.game_type == "roulette")
            .order_by(_rounds.c.id)
            .with_for_update()
        ).all()
        if not rows:
            return results
        draw = fairness.redraw(seed_id, nonce)
        now = utcnow()
        for row in rows:
            outcome = roulette.play(draw.rng(), [roulette.parse_bet(bet) for bet in row.inputs["bets"]])
            payout = outcome.total_payout
            if payout:
                balance = wallet.post(row.user_id, [Movement("win", payout)], game_type="roulette", round_id=row.id)
            else:
                balance = wallet.balance_of(row.user_id)
            record = {**outcome.to_dict(), "table": row.inputs.get("table")}
            session.execute(
                update(_rounds).where(_rounds.c.id == row.id)
                .values(status="settled", payout=payout, outcome=record, settled_at=now)
            )
            result = SettledRound(row.id, row.user_id, "roulette", row.bet, payout, balance, record, _fairness_fields(draw))
            _announce(result)
            results.append(result)
    return results


def stale_table_spins(older_than):
    """(seed_id, nonce) of shared spins still open since before `older_than` (a crashed timer)."""
    with atomic() as session:
        return [
            tuple(row) for row in session.execute(
                select(_rounds.c.seed_id, _rounds.c.nonce)
                .where(_rounds.c.status == "open", _rounds.c.game_type == "roulette", _rounds.c.created_at < older_than)
                .distinct()
            )
        ]
