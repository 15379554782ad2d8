"""The settlement path: all of a round or none of it, and the connection left clean either way."""

import dataclasses

import pytest
from sqlalchemy import func, select, text

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, User
from imperioApp.services.core import errors
from imperioApp.services.engagement import round_effects
from imperioApp.services.money import fairness
from imperioApp.services.rounds import play
from tests.api.helpers import money_snapshot
from tests.ledger import ledger_drift


def test_a_failure_after_the_settlement_statement_undoes_the_whole_round(app, player, monkeypatch):
    before = money_snapshot(app, player.id)

    def broken(*args, **kwargs):
        raise RuntimeError("achievements down")

    monkeypatch.setattr(round_effects, "award", broken)
    monkeypatch.setattr(round_effects, "record_settled_round", broken)
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
    monkeypatch.setattr(fairness, "expected_draw", lambda user_id: None)  # every round claims its nonce first
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
            # Other work of the app (leaderboard pushes) checks connections out too: look at
            # each idle pooled connection in turn (the pool hands them out first in, first out).
            on_server = set()
            for _ in range(2 * pool_size):
                on_server |= set(db.session.execute(text("SELECT name FROM pg_prepared_statements")).scalars())
                db.session.remove()
    finally:
        driver.listeners.remove(sent.append)
    executed = [sql.removeprefix("BEGIN; ") for sql in sent if sql.removeprefix("BEGIN; ").startswith("EXECUTE ")]
    # Sent by name with their values only. The first round: the nonce claim, then the
    # settlement; every later one: the settlement claiming the draw it expected, alone.
    assert len(executed) == rounds + 1
    names = {sql.split()[1] for sql in executed}
    assert len(names) == 3
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


@pytest.mark.postgres
def test_behind_a_transaction_pooler_the_same_statements_go_out_unprepared(app, make_app, player, reels):
    from imperioApp.adapters import driver

    reels(None)
    pooled = make_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], DB_PREPARED_STATEMENTS=False)
    sent = []
    driver.listeners.append(sent.append)
    try:
        with pooled.app_context():
            for _ in range(3):
                result = play.spin_slots(player.id, 1)
                db.session.remove()
            db.engine.dispose()
    finally:
        driver.listeners.remove(sent.append)
    assert sent and not [sql for sql in sent if sql.removeprefix("BEGIN; ").startswith(("PREPARE", "EXECUTE"))]
    with app.app_context():
        ledger = db.session.execute(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == player.id)).scalar_one()
        db.session.remove()
    assert result.balance == ledger


def _rounds_as_drawn(app, user_id):
    """[(seed id, nonce, client seed, stored outcome, outcome recomputed from the seed pair)] in play order."""
    from imperioApp import games
    from imperioApp.models import FairnessSeed, GameRound

    with app.app_context():
        rows = db.session.execute(
            select(GameRound.seed_id, GameRound.nonce, GameRound.client_seed, GameRound.inputs, GameRound.outcome)
            .where(GameRound.user_id == user_id)
            .order_by(GameRound.id)
        ).all()
        seeds = dict(db.session.execute(select(FairnessSeed.id, FairnessSeed.server_seed)).all())
        db.session.remove()
    return [
        (seed_id, nonce, client_seed, outcome, games.verify("slots", seeds[seed_id], client_seed, nonce, inputs)["outcome"])
        for seed_id, nonce, client_seed, inputs, outcome in rows
    ]


def _moved_elsewhere(what, user_id):
    """Change the player's pair as another process would (this one keeps its expectation)."""
    if what == "nonce":  # a round settled by another worker
        db.session.execute(text("UPDATE fairness_seeds SET nonce = nonce + 1 WHERE user_id = :u AND active"), {"u": user_id})
    elif what == "client seed":
        db.session.execute(
            text("UPDATE fairness_seeds SET client_seed = 'chosen-elsewhere' WHERE user_id = :u AND active"), {"u": user_id}
        )
    else:  # a rotation
        db.session.execute(
            text("UPDATE fairness_seeds SET active = false, revealed_at = now() WHERE user_id = :u AND active"), {"u": user_id}
        )
        db.session.commit()
        fairness.ensure_seed(user_id)
    db.session.commit()


@pytest.mark.postgres
@pytest.mark.parametrize("what", ["nonce", "client seed", "rotation"])
def test_a_round_whose_expected_draw_moved_on_draws_again_in_the_same_transaction(app, player, what):
    from imperioApp.adapters import driver

    with app.app_context():
        play.spin_slots(player.id, 1)  # this process now expects the player's next draw
        db.session.remove()
        _moved_elsewhere(what, player.id)
        db.session.remove()
        expected = fairness.expected_draw(player.id)
        sent = []
        driver.listeners.append(sent.append)
        try:
            result = play.spin_slots(player.id, 1)
        finally:
            driver.listeners.remove(sent.append)
        db.session.remove()
    executed = [sql for sql in sent if not sql.startswith("PREPARE ")]
    # The claim of the expected draw wrote nothing; the nonce claim and the settlement followed, one transaction.
    assert len(executed) == 4 and executed[0].startswith("BEGIN; EXECUTE") and executed[-1] == "COMMIT"
    drawn = _rounds_as_drawn(app, player.id)
    assert len(drawn) == 2 and drawn[1][:3] != (expected.seed_id, expected.nonce, expected.client_seed)
    assert (result.fairness["nonce"], result.fairness["client_seed"]) == drawn[1][1:3]
    if what == "client seed":
        assert result.fairness["client_seed"] == "chosen-elsewhere"
    for _, _, _, stored, recomputed in drawn:
        assert stored == recomputed  # every round replays from its own seed pair and nonce
    with app.app_context():
        # The next round's expectation is right again: one statement and COMMIT.
        sent = []
        driver.listeners.append(sent.append)
        try:
            play.spin_slots(player.id, 1)
        finally:
            driver.listeners.remove(sent.append)
        db.session.remove()
    assert [sql for sql in sent if not sql.startswith("PREPARE ")][1:] == ["COMMIT"]
    nonces = [(seed_id, nonce) for seed_id, nonce, *_ in _rounds_as_drawn(app, player.id)]
    assert len(set(nonces)) == 3
    with app.app_context(), db.engine.connect() as connection:
        assert ledger_drift(connection) == []


@pytest.mark.postgres
def test_a_refused_round_on_an_expected_draw_consumes_no_nonce(app, make_player, reels):
    poor = make_player(balance=3)
    reels(None)  # losing spins: 2 coins left after the first
    with app.app_context():
        play.spin_slots(poor.id, 1)
        db.session.remove()
        expected = fairness.expected_draw(poor.id)
        before = money_snapshot(app, poor.id)
        with pytest.raises(errors.InsufficientFunds):
            play.spin_slots(poor.id, 5)
        db.session.remove()
        assert money_snapshot(app, poor.id) == before  # no coin, no round, no nonce
        assert play.spin_slots(poor.id, 2).fairness["nonce"] == expected.nonce
        db.session.remove()
    with app.app_context(), db.engine.connect() as connection:
        assert ledger_drift(connection) == []


@pytest.mark.postgres
@pytest.mark.parametrize("driver_first", [True, False])
def test_driver_and_session_statements_in_one_block_are_one_transaction(app, player, driver_first):
    from imperioApp.adapters import driver
    from imperioApp.services.core.unit_of_work import after_commit, atomic

    transaction_id = driver.Prebuilt(postgresql="SELECT txid_current()")
    credit = driver.Prebuilt(postgresql="UPDATE users SET balance = balance + 7 WHERE id = %(owner)s")
    ran = []
    with app.app_context():
        pool = db.engine.pool
        with atomic() as session:
            ids = [driver.execute(session, transaction_id, {}).fetchone()[0]] if driver_first else []
            ids.append(session.execute(text("SELECT txid_current()")).scalar_one())
            ids.append(driver.execute(session, transaction_id, {}).fetchone()[0])
            after_commit(lambda: ran.append("committed"))
        assert len(set(ids)) == 1 and ran == ["committed"]
        with pytest.raises(RuntimeError), atomic() as session:
            # Both kinds of write, then a failure: neither survives, and no callback runs.
            writes = [
                lambda: driver.execute(session, credit, {"owner": player.id}),
                lambda: session.execute(text("UPDATE users SET balance = balance + 7 WHERE id = :owner"), {"owner": player.id}),
            ]
            for write in writes if driver_first else reversed(writes):
                write()
            after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("after both writes")
        assert ran == ["committed"]
        assert db.session.get(User, player.id).balance == 1000
        db.session.remove()
        assert pool.checkedout() == 0  # every connection went back to the pool
    with app.app_context(), db.engine.connect() as connection:
        assert ledger_drift(connection) == []


@pytest.mark.postgres
def test_a_driver_transaction_never_ended_is_rolled_back_when_the_session_closes(app, player):
    from imperioApp.adapters import driver

    credit = driver.Prebuilt(postgresql="UPDATE users SET balance = balance + 7 WHERE id = %(owner)s")
    with app.app_context():
        driver.execute(db.session(), credit, {"owner": player.id})  # BEGIN; UPDATE, outside any atomic block
        db.session.remove()  # the request's teardown
        assert db.engine.pool.checkedout() == 0
        left_open = db.session.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
        ).scalar_one()
        assert left_open == 0
        assert db.session.get(User, player.id).balance == 1000
        db.session.remove()


def test_a_session_that_did_work_is_still_closed_at_teardown(app, player):
    """Only a session that never began a transaction or held an object skips its close."""
    from sqlalchemy import inspect as state_of

    with app.app_context():
        loaded = db.session.get(User, player.id)
        pending = User(username="never-saved", email="never-saved@example.com", password_hash="x")
        db.session.add(pending)
        db.session.remove()  # the request's teardown
        assert state_of(loaded).detached and state_of(pending).transient
        assert db.engine.pool.checkedout() == 0
        assert db.session.get(User, player.id).balance == 1000
        assert db.session.query(User).filter_by(username="never-saved").count() == 0
        db.session.remove()
