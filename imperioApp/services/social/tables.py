"""The shared roulette table of a multiplayer room: a betting window, then one spin for all.

The first bet after a spin opens the next one: it draws from the host's seed pair (see
`open_spin`) and starts a betting window of TABLE_BETTING_SECONDS. Players bet once each
per spin; stakes leave their wallets at once. When the window ends the caller (the
realtime layer's timer) calls `settle`, which closes betting, waits for bets still in
flight, and settles every bet with one spin. The window's state lives here too (Redis
when configured), so players on any process bet on the same spin; the seats stay in
`rooms`.
"""

import time
from datetime import timedelta

import structlog
from flask import current_app
from sqlalchemy import select

from ...extensions import redis_store
from ...games import roulette
from ...models import GameRound
from ...models.base import utcnow
from ..core.errors import Conflict
from ..core.unit_of_work import atomic
from ..identity import accounts
from ..money import fairness, wallet
from ..rounds import play, settlement
from ..rounds.settlement import Step
from . import rooms
from .table_store import MemoryTables, RedisTables

log = structlog.get_logger(__name__)
_OPENING_WAIT_SECONDS = 2.0
_rounds = GameRound.__table__


def _fairness(spin):
    """What every player may see of the spin's draw (its seed's hash, client seed and nonce)."""
    return {name: spin[name] for name in fairness.PUBLIC_FIELDS}


def _window_lifetime():
    """Seconds a spin may stay unsettled: its betting window plus a minute for settling."""
    # Long enough to outlive a betting window and its settlement; short enough that a
    # spin abandoned by a crashed process stops blocking the room and is settled late.
    return int(current_app.config["TABLE_BETTING_SECONDS"]) + 60


# --- public operations -----------------------------------------------------------------


def place_bet(room_id, user_id, raw_bets):
    """Bet on the room's current spin, opening one if none; return {opened, spin, stake, closes_in?, fairness?}."""
    room = rooms.require_seat(room_id, user_id)
    if room.game_type != "roulette":
        raise Conflict("this room does not play roulette", code="not_a_roulette_room")
    bets = play.parse_roulette_bets(raw_bets)
    deadline = time.monotonic() + _OPENING_WAIT_SECONDS
    while True:
        action, spin = begin_bet(room_id)
        if action != "wait" or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # another bet is opening the spin right now; it takes one transaction
    if action == "open":
        seconds = current_app.config["TABLE_BETTING_SECONDS"]
        try:
            spin, stake = open_spin(room.host_id, user_id, room_id, bets)
        except Exception:
            _store().clear(room_id)  # the opening failed: the next bet opens a spin
            raise
        _store().opened(room_id, spin, seconds, _window_lifetime())
        return {"opened": True, "spin": spin, "closes_in": seconds, "stake": stake, "fairness": _fairness(spin)}
    if action == "bet":
        try:
            stake = place_spin_bet(user_id, room_id, spin, bets)
        finally:
            _store().bet_done(room_id)
        return {"opened": False, "spin": spin, "stake": stake}
    if action == "wait":
        raise Conflict("the spin is being opened; try again", code="try_again")
    raise Conflict("betting on this spin has closed; bet on the next one", code="betting_closed")


def settle(room_id, spin):
    """Close betting on `spin` and settle it; return {public, private} (None if nobody bet)."""
    # public: the result for the room; private: {user_id: that player's round and balance}.
    begin_settle(room_id)
    try:
        results = settle_spin(spin["seed_id"], spin["nonce"])
    finally:
        _store().clear(room_id)  # the spin is settled: the next bet opens a new one
    settle_stale()
    if not results:
        return None
    outcome = results[0].outcome
    names = accounts.usernames({result.user_id for result in results})
    public = {
        "room_id": room_id,
        "winning_number": outcome["pocket"],
        "color": outcome["color"],
        "fairness": _fairness(spin),
        "results": [
            {"username": names.get(result.user_id), "bet": result.bet, "payout": result.payout, "net": result.net}
            for result in results
        ],
    }
    private = {
        result.user_id: {
            "room_id": room_id,
            "round_id": result.round_id,
            "bet": result.bet,
            "payout": result.payout,
            "net": result.net,
            "balance": result.balance,
        }
        for result in results
    }
    return {"public": public, "private": private}


def settle_stale():
    """Settle spins whose timer died with its process (their draw is in the database)."""
    cutoff = utcnow() - timedelta(seconds=_window_lifetime())
    for seed_id, nonce in stale_spins(cutoff):
        log.warning("table_spin_settled_late", seed_id=seed_id, nonce=nonce)
        settle_spin(seed_id, nonce)


def closes_in(room_id):
    """Whole seconds left in the room's betting window, or None when no spin is taking bets."""
    return _store().closes_in(room_id)


def open_tables():
    """The public roulette tables a player may join: seats, players and the betting window."""
    listed = []
    for room in rooms.list_public():
        if room.game_type != "roulette":
            continue
        left = closes_in(room.id)
        listed.append(
            {
                "room_id": room.id,
                "host": room.host,
                "players": room.usernames,
                "seats_taken": len(room.players),
                "max_players": room.max_players,
                "betting_open": left is not None,
                "closes_in": left,
            }
        )
    return listed


def reset():
    """Forget this app's in-memory table state (tests; Redis state goes with FLUSHDB)."""
    current_app.extensions.pop("imperio.tables", None)


# --- the betting window ----------------------------------------------------------------


def begin_bet(room_id):
    """Atomically decide what a new bet does: (action, spin state) — see below."""
    # ("open", None): start the spin; ("bet", state): join it, counted in flight until
    # the bet is done; ("wait", None): it is being opened; ("closed", None): betting ended.
    return _store().begin_bet(room_id, _window_lifetime())


def begin_settle(room_id, wait_seconds=5.0):
    """Stop taking bets, wait (bounded) for bets in flight; return the spin's state or None."""
    store = _store()
    state, inflight = store.close(room_id)
    deadline = time.monotonic() + wait_seconds
    while state is not None and inflight > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        state, inflight = store.peek(room_id)
    return state


# --- the table's rounds ----------------------------------------------------------------
# One spin settles every player's bets. The spin draws once, when its first bet is taken,
# from the room host's seed pair; each player's bet is an open roulette round recording
# that draw (seed, nonce), with the stake debited through the wallet at once. While any of
# those rounds is open the host cannot rotate the seed (fairness.rotate refuses), so the
# seed stays secret until after the spin. Settlement replays the draw for each round with
# the same engine as a solo spin, so each round verifies on its own with /fairness/verify.


def _draw_fields(draw):
    return {"seed_id": draw.seed_id, **fairness.public_fields(draw)}


def _stake_bet(user_id, table_id, draw, bets):
    total, inputs = play.roulette_stake(bets)
    step = Step(
        user_id,
        "roulette",
        total,
        0,
        {**inputs, "table": table_id},
        {"table": table_id, "status": "betting"},
        fairness.public_fields(draw),
        stake=total,
        settled=False,
        seed_id=draw.seed_id,
        reach=roulette.max_payout(bets),
    )
    result = settlement.settle(step)
    return {"round_id": result.round_id, "bet": total, "balance": result.balance}


def open_spin(host_id, user_id, table_id, bets):
    """Draw a shared spin from the host's seed pair and stake its first bet; return (spin, stake)."""
    with atomic():
        draw = fairness.draw(host_id)
        stake = _stake_bet(user_id, table_id, draw, bets)
    return _draw_fields(draw), stake


def place_spin_bet(user_id, table_id, spin, bets):
    """Stake a player's bets on an opened shared spin (one placement per player per spin)."""
    with atomic() as session:
        wallet.lock(user_id)  # serialises one player's racing placements, so the check below holds
        taken = session.execute(
            select(_rounds.c.id).where(
                _rounds.c.seed_id == spin["seed_id"],
                _rounds.c.nonce == spin["nonce"],
                _rounds.c.user_id == user_id,
                _rounds.c.game_type == "roulette",
            )
        ).first()
        if taken is not None:
            raise Conflict("you have already bet on this spin", code="already_bet")
        draw = fairness.redraw(spin["seed_id"], spin["nonce"])
        return _stake_bet(user_id, table_id, draw, bets)


def settle_spin(seed_id, nonce):
    """Spin once and settle every open bet on it; return the SettledRounds (idempotent)."""
    results = []
    with atomic() as session:
        rows = session.execute(
            select(_rounds.c.id, _rounds.c.user_id, _rounds.c.bet, _rounds.c.inputs)
            .where(
                _rounds.c.seed_id == seed_id,
                _rounds.c.nonce == nonce,
                _rounds.c.status == "open",
                _rounds.c.game_type == "roulette",
            )
            .order_by(_rounds.c.id)
            .with_for_update()
        ).all()
        if not rows:
            return results
        draw = fairness.redraw(seed_id, nonce)
        for row in rows:
            outcome = roulette.play(draw.rng(), [roulette.parse_bet(bet) for bet in row.inputs["bets"]])
            payout = outcome.total_payout
            step = Step(
                row.user_id,
                "roulette",
                row.bet,
                payout,
                row.inputs,
                {**outcome.to_dict(), "table": row.inputs.get("table")},
                fairness.public_fields(draw),
                win=payout,
                round_id=row.id,
            )
            results.append(settlement.settle(step))
    return results


def stale_spins(older_than):
    """(seed_id, nonce) of shared spins still open since before `older_than` (a crashed timer)."""
    with atomic() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(_rounds.c.seed_id, _rounds.c.nonce)
                .where(_rounds.c.status == "open", _rounds.c.game_type == "roulette", _rounds.c.created_at < older_than)
                .distinct()
            )
        ]


# --- the window's state: in memory, or in Redis ----------------------------------------


def _store():
    client = redis_store.client
    if client is not None:
        return RedisTables(client)
    return current_app.extensions.setdefault("imperio.tables", MemoryTables())
