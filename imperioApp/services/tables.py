"""The shared roulette table of a multiplayer room: a betting window, then one spin for all.

The first bet after a spin opens the next one: it draws from the host's seed pair (see
`play.open_table_spin`) and starts a betting window of TABLE_BETTING_SECONDS. Players
bet once each per spin; stakes leave their wallets at once. When the window ends the
caller (the realtime layer's timer) calls `settle`, which closes betting, waits for bets
still in flight, and settles every bet with one spin. The room's spin state lives in
`rooms` (Redis when configured), so players on any process bet on the same spin.
"""

import time
from datetime import timedelta

import structlog
from flask import current_app

from ..games import roulette
from ..models.base import utcnow
from . import accounts, fairness, play, rooms
from .errors import Conflict, ValidationFailed

log = structlog.get_logger(__name__)
_OPENING_WAIT_SECONDS = 2.0


def _fairness(spin):
    """What every player may see of the spin's draw (its seed's hash, client seed and nonce)."""
    return {name: spin[name] for name in fairness.PUBLIC_FIELDS}


def place_bet(room_id, user_id, raw_bets):
    """Bet on the room's current spin, opening one if none; return {opened, spin, stake, closes_in?, fairness?}."""
    room = rooms.require_seat(room_id, user_id)
    if room.game_type != "roulette":
        raise Conflict("this room does not play roulette", code="not_a_roulette_room")
    if not isinstance(raw_bets, list):
        raise ValidationFailed("bets must be a list", code="validation_error")
    bets = [roulette.parse_bet(bet) for bet in raw_bets]
    deadline = time.monotonic() + _OPENING_WAIT_SECONDS
    while True:
        action, spin = rooms.table_begin_bet(room_id)
        if action != "wait" or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # another bet is opening the spin right now; it takes one transaction
    if action == "open":
        seconds = current_app.config["TABLE_BETTING_SECONDS"]
        try:
            spin, stake = play.open_table_spin(room.host_id, user_id, room_id, bets)
        except Exception:
            rooms.table_abort(room_id)
            raise
        rooms.table_opened(room_id, spin, seconds)
        return {"opened": True, "spin": spin, "closes_in": seconds, "stake": stake, "fairness": _fairness(spin)}
    if action == "bet":
        try:
            stake = play.place_table_bet(user_id, room_id, spin, bets)
        finally:
            rooms.table_bet_done(room_id)
        return {"opened": False, "spin": spin, "stake": stake}
    if action == "wait":
        raise Conflict("the spin is being opened; try again", code="try_again")
    raise Conflict("betting on this spin has closed; bet on the next one", code="betting_closed")


def settle(room_id, spin):
    """Close betting on `spin` and settle it; return {public, private} (None if nobody bet)."""
    # public: the result for the room; private: {user_id: that player's round and balance}.
    rooms.table_begin_settle(room_id)
    try:
        results = play.settle_table_spin(spin["seed_id"], spin["nonce"])
    finally:
        rooms.table_finish(room_id)
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
        result.user_id: {"room_id": room_id, "round_id": result.round_id, "bet": result.bet, "payout": result.payout,
                         "net": result.net, "balance": result.balance}
        for result in results
    }
    return {"public": public, "private": private}


def settle_stale():
    """Settle spins whose timer died with its process (their draw is in the database)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["TABLE_BETTING_SECONDS"] + 60)
    for seed_id, nonce in play.stale_table_spins(cutoff):
        log.warning("table_spin_settled_late", seed_id=seed_id, nonce=nonce)
        play.settle_table_spin(seed_id, nonce)
