"""The settlement path: all of a round or none of it, and the connection left clean either way."""

import pytest

from imperioApp.extensions import db
from imperioApp.services import engagement, errors, play
from tests.api.helpers import money_snapshot


def test_a_failure_after_the_settlement_statement_undoes_the_whole_round(app, player, monkeypatch):
    before = money_snapshot(app, player.id)

    def broken(*args, **kwargs):
        raise RuntimeError("achievements down")

    monkeypatch.setattr(engagement, "award", broken)
    monkeypatch.setattr(engagement, "record_settled_round", broken)
    with app.app_context():
        with pytest.raises(RuntimeError):
            play.spin_slots(player.id, 5)
        db.session.remove()
    assert money_snapshot(app, player.id) == before  # no coin, no row, no nonce
    monkeypatch.undo()
    with app.app_context():
        result = play.spin_slots(player.id, 5)  # the pooled connection is usable again
        db.session.remove()
    assert money_snapshot(app, player.id)["rounds"] == before["rounds"] + 1
    assert result.balance == 1000 - 5 + result.payout


def test_a_refused_round_leaves_the_connection_in_its_normal_mode(app, make_player):
    poor = make_player(balance=3)
    with app.app_context():
        with pytest.raises(errors.InsufficientFunds):
            play.spin_slots(poor.id, 5)
        connection = db.session.connection().connection.dbapi_connection
        if db.engine.dialect.name == "postgresql":
            assert connection.autocommit is False
        db.session.remove()
        assert play.spin_slots(poor.id, 3).bet == 3
        db.session.remove()
