"""When the OS random source fails, nothing that needs a new seed goes ahead: a clear 503, nothing written."""

import pytest
from sqlalchemy import func, select, update

from imperioApp.extensions import db
from imperioApp.games import fairness as rng
from imperioApp.models import FairnessSeed, GameRound, LedgerEntry, User

from .helpers import assert_error


@pytest.fixture
def broken_random_source(monkeypatch):
    def fail(size):
        raise OSError(5, "getrandom failed")

    monkeypatch.setattr(rng.secrets, "token_hex", fail)


def counts(app):
    with app.app_context():
        return {
            table: db.session.scalar(select(func.count()).select_from(table))
            for table in (User, LedgerEntry, GameRound, FairnessSeed)
        }


def test_the_seed_source_raises_a_domain_failure_of_its_own(broken_random_source):
    with pytest.raises(rng.RandomSourceFailed, match="getrandom failed"):
        rng.generate_server_seed()
    with pytest.raises(rng.RandomSourceFailed):
        rng.generate_client_seed()


def test_play_that_needs_a_new_seed_answers_503_and_writes_nothing(app, client, player, broken_random_source):
    with app.app_context():
        # A player whose pair is gone: the next round would have to make one.
        db.session.execute(update(FairnessSeed.__table__).where(FairnessSeed.user_id == player.id).values(active=False))
        db.session.commit()
    before = counts(app)
    for path, body in (
        ("/spin", {"bet": 1}),
        ("/roulette/spin", {"bets": [{"type": "red", "amount": 1}]}),
        ("/blackjack/start", {"wager": 1}),
    ):
        response = client.post(path, json=body, headers=player.headers)
        assert_error(response, 503, "rng_unavailable")
        assert response.headers["Retry-After"]
    assert counts(app) == before
    assert client.get("/getCoins", headers=player.headers).get_json()["coins"] == player_balance(app, player)


def player_balance(app, player):
    with app.app_context():
        return db.session.scalar(select(User.balance).where(User.id == player.id))


def test_rotation_keeps_the_current_pair_unrevealed(client, player, broken_random_source):
    before = client.get("/fairness", headers=player.headers).get_json()
    assert_error(client.post("/fairness/rotate", headers=player.headers), 503, "rng_unavailable")
    assert client.get("/fairness", headers=player.headers).get_json() == before


def test_signup_creates_no_account(app, client, broken_random_source):
    before = counts(app)
    response = client.post("/signup", json={"username": "newcomer", "email": "new@example.com", "password": "long-enough-pass"})
    assert_error(response, 503, "rng_unavailable")
    assert counts(app) == before
