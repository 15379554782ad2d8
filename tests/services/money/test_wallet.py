"""The wallet service: every balance change is a ledger row, and no balance goes negative."""

import pytest
from sqlalchemy import func, select

from imperioApp.models import LedgerEntry, User
from imperioApp.services.core.errors import InsufficientFunds, NotFound, ValidationFailed
from imperioApp.services.money import wallet
from imperioApp.services.money.wallet import Movement
from tests.concurrency import race


def ledger_of(db, user_id):
    return db.session.execute(
        select(LedgerEntry.type, LedgerEntry.amount, LedgerEntry.balance_after)
        .where(LedgerEntry.user_id == user_id)
        .order_by(LedgerEntry.id)
    ).all()


def test_debit_and_credit_write_one_ledger_row_each(db, make_player):
    player = make_player(balance=100)
    assert wallet.debit(player.id, 30, game_type="slots") == 70
    assert wallet.credit(player.id, 45, game_type="slots") == 115
    db.session.commit()
    rows = ledger_of(db, player.id)
    assert rows[-2:] == [("bet", -30, 70), ("win", 45, 115)]
    assert wallet.balance_of(player.id) == 115


def test_debit_beyond_balance_is_refused_and_writes_nothing(db, make_player):
    player = make_player(balance=10)
    before = ledger_of(db, player.id)
    with pytest.raises(InsufficientFunds):
        wallet.debit(player.id, 11)
    assert ledger_of(db, player.id) == before
    assert wallet.balance_of(player.id) == 10


def test_post_requires_the_bet_to_be_covered_before_the_win(db, make_player):
    player = make_player(balance=5)
    with pytest.raises(InsufficientFunds):
        wallet.post(player.id, [Movement("bet", -10), Movement("win", 20)])
    assert wallet.post(player.id, [Movement("bet", -5), Movement("win", 20)]) == 20
    db.session.commit()
    assert ledger_of(db, player.id)[-2:] == [("bet", -5, 0), ("win", 20, 20)]


@pytest.mark.parametrize("amount", [0, -1, 1.0, 2.5, "10", True, None, 2**63])
def test_amounts_must_be_positive_integers_within_bigint(db, make_player, amount):
    player = make_player(balance=100)
    with pytest.raises(ValidationFailed):
        wallet.debit(player.id, amount)
    with pytest.raises(ValidationFailed):
        wallet.credit(player.id, amount)
    assert wallet.balance_of(player.id) == 100


def test_unknown_user_is_not_found(db):
    with pytest.raises(NotFound):
        wallet.debit(999_999, 1)
    db.session.rollback()
    with pytest.raises(NotFound):
        wallet.balance_of(999_999)


def test_lock_returns_balance(db, make_player):
    player = make_player(balance=42)
    assert wallet.lock(player.id) == 42
    db.session.rollback()


def test_fifty_concurrent_debits_on_twenty_coins(app, make_player):
    """Real threads, each with its own connection: exactly 20 succeed and the balance ends at 0."""
    player = make_player(balance=20)

    def debit_one():
        wallet.debit(player.id, 1, game_type="slots")
        return "ok"

    outcomes = ["refused" if isinstance(r, InsufficientFunds) else r for r in race(app, 50, debit_one)]
    assert sorted(set(outcomes)) == ["ok", "refused"], outcomes
    assert outcomes.count("ok") == 20
    with app.app_context():
        from imperioApp.extensions import db

        assert wallet.balance_of(player.id) == 0
        bets = db.session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.user_id == player.id, LedgerEntry.type == "bet")
        ).scalar_one()
        assert bets == 20
        assert db.session.get(User, player.id).balance == 0
