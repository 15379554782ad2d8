"""Abandoned rounds end: an open blackjack round with no action for ROUND_ABANDON_MINUTES stands.

The clock is injected (`settlement.clock`); nothing here waits on a real one.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry
from imperioApp.models.base import utcnow
from imperioApp.services.rounds import expiry, play, settlement
from tests.concurrency import race

from .helpers import assert_error, assert_ledger_holds

WAGER = 10


@pytest.fixture
def clock(monkeypatch):
    """The rounds' clock (their stamps and the abandonment rule), movable: clock.advance(minutes=6)."""

    class Clock:
        now = utcnow()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    fake = Clock()
    monkeypatch.setattr(settlement, "clock", lambda: fake.now)
    return fake


@pytest.fixture
def winning_hand(client, player, deal):
    """An open round the player wins by standing: 10+9 against the dealer's 7+King."""
    deal("10", "7", "9", "King")
    response = client.post("/blackjack/start", json={"wager": WAGER}, headers=player.headers)
    assert response.status_code == 200 and not response.get_json()["game_over"]
    return response.get_json()["id"]


def coins(client, player):
    return client.get("/getCoins", headers=player.headers).get_json()["coins"]


def wins_of(app, round_id):
    with app.app_context():
        count = db.session.execute(
            select(func.count()).where(LedgerEntry.round_id == round_id, LedgerEntry.type == "win")
        ).scalar_one()
        db.session.remove()
    return count


def test_the_sweep_ends_an_abandoned_round_by_standing_and_pays_it(app, client, runner, player, winning_hand, clock):
    assert coins(client, player) == 1000 - WAGER  # the wager is held while the round is open
    clock.advance(minutes=app.config["ROUND_ABANDON_MINUTES"], seconds=-1)
    assert runner.invoke(args=["rounds", "expire"]).output.strip() == "ended 0 abandoned rounds"
    clock.advance(seconds=2)
    assert runner.invoke(args=["rounds", "expire"]).output.strip() == "ended 1 abandoned rounds"
    assert runner.invoke(args=["rounds", "expire"]).output.strip() == "ended 0 abandoned rounds"
    recalled = client.get(f"/games/{winning_hand}", headers=player.headers).get_json()
    assert recalled["status"] == "settled" and recalled["payout"] == 2 * WAGER
    assert recalled["inputs"]["actions"] == ["stand"] and recalled["outcome"]["expired"] is True
    assert coins(client, player) == 1000 + WAGER
    assert wins_of(app, winning_hand) == 1
    assert_ledger_holds(app)


def test_the_players_next_look_at_their_rounds_ends_an_abandoned_one(app, client, player, winning_hand, clock):
    clock.advance(minutes=app.config["ROUND_ABANDON_MINUTES"] + 1)
    history = client.get("/games/history", headers=player.headers).get_json()["items"]
    assert [(item["id"], item["status"], item["payout"]) for item in history] == [(winning_hand, "settled", 2 * WAGER)]
    assert coins(client, player) == 1000 + WAGER
    assert_ledger_holds(app)


def test_an_action_on_an_abandoned_round_ends_it_as_the_sweep_would(app, client, player, winning_hand, clock):
    clock.advance(minutes=app.config["ROUND_ABANDON_MINUTES"] + 1)
    hit = client.post("/blackjack/action", json={"action": "hit", "game_id": winning_hand}, headers=player.headers)
    assert assert_error(hit, 409, "round_expired")["details"] == {"round_id": winning_hand}
    again = client.post("/blackjack/action", json={"action": "hit", "game_id": winning_hand}, headers=player.headers)
    assert_error(again, 409, "game_over")
    recalled = client.get(f"/games/{winning_hand}", headers=player.headers).get_json()
    assert recalled["status"] == "settled" and recalled["inputs"]["actions"] == ["stand"]
    assert coins(client, player) == 1000 + WAGER
    assert_ledger_holds(app)


def test_each_action_restarts_the_deadline(app, client, player, deal, clock):
    deal("10", "9", "2", "King", "3")  # 12 against 19; a hit draws the 3
    game = client.post("/blackjack/start", json={"wager": WAGER}, headers=player.headers).get_json()["id"]
    minutes = app.config["ROUND_ABANDON_MINUTES"]
    clock.advance(minutes=minutes - 1)
    hit = client.post("/blackjack/action", json={"action": "hit", "game_id": game}, headers=player.headers)
    assert hit.status_code == 200 and not hit.get_json()["game_over"]
    clock.advance(minutes=minutes - 1)  # long after the deal, not after the hit
    with app.app_context():
        assert expiry.sweep() == 0
    assert client.get(f"/games/{game}", headers=player.headers).get_json()["status"] == "open"


def test_racing_sweeps_end_a_round_exactly_once(app, player, winning_hand, clock):
    clock.advance(minutes=app.config["ROUND_ABANDON_MINUTES"] + 1)
    results = race(app, 8, lambda: play.expire_abandoned(winning_hand))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r is not None]) == 1
    assert wins_of(app, winning_hand) == 1
    assert_ledger_holds(app)
