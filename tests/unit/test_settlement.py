"""The settlement path: all of a round or none of it, and the connection left clean either way."""

import dataclasses

import pytest
from sqlalchemy import func, select, text

from conftest import ledger_drift
from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, User
from imperioApp.services import engagement, errors, fairness, play
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


def test_the_database_refuses_a_second_round_of_a_player_from_one_draw(app, player, monkeypatch):
    # As if the nonce claim were broken and handed out the same draw twice.
    real_draw, first = fairness.draw, {}

    def same_draw_again(user_id):
        draw = real_draw(user_id)
        first.setdefault("nonce", draw.nonce)
        return dataclasses.replace(draw, nonce=first["nonce"])

    monkeypatch.setattr(fairness, "draw", same_draw_again)
    with app.app_context():
        play.spin_slots(player.id, 5)
        db.session.remove()
    before = money_snapshot(app, player.id)
    with app.app_context():
        with pytest.raises(Exception) as refused:
            play.spin_slots(player.id, 5)
        db.session.remove()
    assert "IntegrityError" in {cls.__name__ for cls in type(refused.value).__mro__}
    assert money_snapshot(app, player.id) == before  # no coin, no round, no nonce
    with app.app_context(), db.engine.connect() as connection:
        assert ledger_drift(connection) == []  # balance == sum(ledger)


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


@pytest.mark.postgres
def test_on_postgresql_a_round_runs_prepared_statements_prepared_once_per_connection(app, player, reels):
    from imperioApp.adapters import driver

    reels(None)  # losing spins: one settlement statement

    sent = []
    driver.listeners.append(sent.append)
    try:
        with app.app_context():
            pool_size = db.engine.pool.size()
            rounds = 2 * pool_size + 1  # every pooled connection serves two rounds or more
            for _ in range(rounds):
                result = play.spin_slots(player.id, 1)
                db.session.remove()
            on_server = set(db.session.execute(text("SELECT name FROM pg_prepared_statements")).scalars())
            db.session.remove()
    finally:
        driver.listeners.remove(sent.append)
    executed = [sql.removeprefix("BEGIN; ") for sql in sent if sql.removeprefix("BEGIN; ").startswith("EXECUTE ")]
    # Each round: the nonce claim and the settlement, sent by name with their values only.
    assert len(executed) == 2 * rounds
    names = {sql.split()[1] for sql in executed}
    assert len(names) == 2
    # A connection prepares a statement the first time it runs it, never again.
    prepared = [sql.split()[1] for sql in sent if sql.startswith("PREPARE ")]
    assert set(prepared) <= names
    assert all(prepared.count(name) <= pool_size for name in names)
    assert names & on_server  # the statements live in the database session, beyond the transaction
    snapshot = money_snapshot(app, player.id)
    assert snapshot["rounds"] == rounds and snapshot["ledger_rows"] >= rounds
    with app.app_context():
        balance = db.session.get(User, player.id).balance
        ledger = db.session.execute(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == player.id)).scalar_one()
        db.session.remove()
    assert balance == result.balance == ledger
