"""The shared roulette table: one provably fair spin settles every player's bets."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from imperioApp.extensions import db
from imperioApp.games import roulette
from imperioApp.models import GameRound, LedgerEntry
from imperioApp.models.base import utcnow
from imperioApp.services.core.errors import Conflict
from imperioApp.services.money import fairness
from imperioApp.services.social import tables
from tests.api.helpers import money_snapshot

from .helpers import assert_error, end_interval

RED = {"type": "red", "amount": 10}


@pytest.fixture(autouse=True)
def betting_window(app, monkeypatch, ticks):
    """Betting windows end when the test says so (end_interval), however loaded the machine."""
    monkeypatch.setitem(app.config, "TABLE_BETTING_SECONDS", 1.0)


STRAIGHT_17 = {"type": "straight", "numbers": [17], "amount": 5}


def seat(connect, player, room_id=None, game_type="roulette"):
    sock = connect(player)
    if room_id is None:
        room_id = sock.emit("create_multiplayer_room", {"game_type": game_type, "max_players": 4})["room_id"]
    else:
        sock.emit("join_multiplayer_room", {"room_id": room_id})
    return sock, room_id


def rounds_of(app, *user_ids):
    with app.app_context():
        rows = db.session.execute(select(GameRound).where(GameRound.user_id.in_(user_ids)).order_by(GameRound.id)).scalars().all()
        db.session.remove()
    return rows


def test_one_spin_settles_every_players_bets(app, connect, player, make_player, ticks):
    guest_player = make_player()
    host, room_id = seat(connect, player)
    guest, _ = seat(connect, guest_player, room_id)
    accepted = host.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert accepted["bet"] == 10 and accepted["balance"] == 990
    opened = guest.events("table_betting_open")
    assert len(opened) == 1 and opened[0]["closes_in"] == pytest.approx(1.0)
    fairness_fields = opened[0]["fairness"]
    assert set(fairness_fields) == {"server_seed_hash", "client_seed", "nonce"}
    guest.emit("place_table_bet", {"room_id": room_id, "bets": [STRAIGHT_17, {"type": "black", "amount": 3}]})
    assert [e["username"] for e in host.events("table_bet_placed")] == [player.username, guest_player.username]

    assert host.events("table_result") == []  # the window is still open
    end_interval(ticks)
    result = host.events("table_result")
    assert len(result) == 1
    result = result[0]
    assert guest.events("table_result") == [result]
    pocket = result["winning_number"]
    assert 0 <= pocket <= 36 and result["fairness"] == fairness_fields
    by_name = {row["username"]: row for row in result["results"]}
    assert by_name[player.username]["bet"] == 10 and by_name[guest_player.username]["bet"] == 8

    mine = host.events("table_settled")[0]
    theirs = guest.events("table_settled")[0]
    assert mine["balance"] == 990 + mine["payout"] and theirs["balance"] == 992 + theirs["payout"]
    assert "balance" not in result["results"][0]  # balances go only to their owner

    host_round, guest_round = rounds_of(app, player.id, guest_player.id)
    assert host_round.status == guest_round.status == "settled"
    assert host_round.outcome["pocket"] == guest_round.outcome["pocket"] == pocket
    # One draw from the host's seed pair: same seed, same nonce on both rounds.
    assert (host_round.seed_id, host_round.nonce) == (guest_round.seed_id, guest_round.nonce)
    assert guest_round.server_seed_hash == fairness_fields["server_seed_hash"]

    with app.app_context():
        revealed = fairness.rotate(player.id)["revealed"]
        for row in (host_round, guest_round):
            verified = fairness.verify("roulette", revealed["server_seed"], row.client_seed, row.nonce, row.inputs)
            assert verified["outcome"]["pocket"] == pocket
            assert verified["outcome"]["total_payout"] == row.payout
        ledger = db.session.execute(
            select(LedgerEntry.user_id, LedgerEntry.type, LedgerEntry.amount, LedgerEntry.round_id)
            .where(LedgerEntry.round_id.is_not(None))
            .order_by(LedgerEntry.id)
        ).all()
    assert (player.id, "bet", -10, host_round.id) in ledger and (guest_player.id, "bet", -8, guest_round.id) in ledger
    for row in (host_round, guest_round):
        wins = [amount for uid, kind, amount, rid in ledger if rid == row.id and kind == "win"]
        assert wins == ([row.payout] if row.payout else [])


def test_the_host_cannot_reveal_the_seed_while_bets_are_open(app, connect, player, make_player, ticks):
    host_player = make_player()
    _, room_id = seat(connect, host_player)
    guest, _ = seat(connect, player, room_id)
    guest.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})  # only the guest bets
    with app.app_context():
        with pytest.raises(Conflict) as refused:
            fairness.rotate(host_player.id)
        db.session.remove()
    assert refused.value.code == "open_round"
    end_interval(ticks)
    assert len(guest.events("table_result")) == 1
    with app.app_context():
        assert fairness.rotate(host_player.id)["revealed"]["rounds_played"] == 1


def test_one_placement_per_player_per_spin(app, connect, player, ticks):
    sock, room_id = seat(connect, player)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    before = money_snapshot(app, player.id)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert_error(sock, "already_bet", "place_table_bet")
    assert money_snapshot(app, player.id) == before
    end_interval(ticks)
    assert len(sock.events("table_result")) == 1
    # The next spin takes a new bet.
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert sock.events("error") == []
    end_interval(ticks)
    assert len(sock.events("table_result")) == 2


@pytest.mark.parametrize(
    "bets, code",
    [
        ([], "no_bets"),
        ([{"type": "red", "amount": 0}], "invalid_amount"),
        ([{"type": "lucky", "amount": 5}], "unknown_bet_type"),
        ([{"type": "straight", "numbers": [37], "amount": 5}], "invalid_numbers"),
        ([{"type": "split", "numbers": [1, 5], "amount": 5}], "illegal_bet_shape"),
        ([{"type": "red", "amount": 2000}], "above_table_limit"),
        ([{"type": "red", "amount": 5000}], "above_table_limit"),
        (["red"], "validation_error"),
        ("red", "validation_error"),
    ],
)
def test_bad_bets_are_refused_and_nothing_moves(app, connect, player, bets, code):
    sock, room_id = seat(connect, player)
    before = money_snapshot(app, player.id)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": bets})
    error = assert_error(sock, code, "place_table_bet")
    assert error
    assert money_snapshot(app, player.id) == before
    assert sock.events("table_betting_open") == []


def test_a_table_bet_takes_exactly_roulette_max_bets(app, connect, make_player, ticks):
    """The shared table counts bets as the REST endpoints do: the limit is accepted, one more is too_many_bets."""
    limit = app.config["ROULETTE_MAX_BETS"]
    player = make_player(balance=limit)
    sock, room_id = seat(connect, player)
    before = money_snapshot(app, player.id)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [{"type": "dozen", "index": 1, "amount": 1}] * (limit + 1)})
    assert_error(sock, "too_many_bets", "place_table_bet")
    assert money_snapshot(app, player.id) == before
    accepted = sock.emit("place_table_bet", {"room_id": room_id, "bets": [{"type": "dozen", "index": 1, "amount": 1}] * limit})
    assert accepted["bet"] == limit and accepted["balance"] == 0
    end_interval(ticks)
    assert len(sock.events("table_result")) == 1


def test_insufficient_funds_open_nothing_and_the_next_bet_opens_the_spin(app, connect, player, make_player, ticks):
    poor = make_player(balance=5)
    sock, room_id = seat(connect, poor)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert_error(sock, "insufficient_funds")
    assert money_snapshot(app, poor.id)["rounds"] == 0
    rich, _ = seat(connect, player, room_id)
    rich.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert len(rich.events("table_betting_open")) == 1
    end_interval(ticks)
    assert len(rich.events("table_result")) == 1


def test_bets_outside_a_roulette_room_or_seat_are_refused(connect, player, make_player):
    sock, slots_room = seat(connect, player, game_type="slots")
    sock.emit("place_table_bet", {"room_id": slots_room, "bets": [RED]})
    assert_error(sock, "not_a_roulette_room")
    _, roulette_room = seat(connect, make_player())
    sock.emit("place_table_bet", {"room_id": roulette_room, "bets": [RED]})
    assert_error(sock, "not_in_room")
    sock.emit("place_table_bet", {"room_id": "nosuchroom", "bets": [RED]})
    assert_error(sock, "room_not_found")


def test_bets_after_betting_closed_wait_for_the_next_spin(app, connect, player, make_player, ticks):
    host, room_id = seat(connect, player)
    host.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    with app.app_context():
        tables.begin_settle(room_id)  # what the timer does when the window ends
    guest_player = make_player()
    guest, _ = seat(connect, guest_player, room_id)
    before = money_snapshot(app, guest_player.id)
    guest.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    assert_error(guest, "betting_closed")
    assert money_snapshot(app, guest_player.id) == before
    end_interval(ticks)
    assert len(host.events("table_result")) == 1


def test_bets_survive_their_players_leaving(app, connect, player, ticks):
    sock, room_id = seat(connect, player)
    sock.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    sock.emit("leave_multiplayer_room", {"room_id": room_id})  # the room closes; the stake is on the table
    end_interval(ticks)
    settled = sock.events("table_settled")
    assert len(settled) == 1 and settled[0]["bet"] == 10
    assert rounds_of(app, player.id)[0].status == "settled"


def test_a_spin_orphaned_by_a_dead_timer_is_settled_later(app, player, make_player):
    with app.app_context():
        spin, stake = tables.open_spin(player.id, player.id, "lost-room", [roulette.parse_bet(RED)])
        db.session.execute(
            update(GameRound).where(GameRound.id == stake["round_id"]).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        tables.settle_stale()
        db.session.remove()
    assert rounds_of(app, player.id)[0].status == "settled"
    with app.app_context():
        assert tables.settle_spin(spin["seed_id"], spin["nonce"]) == []  # idempotent
