"""The incremental ledger check reads only new rows and finds what the full check finds in them."""

from datetime import timedelta

from sqlalchemy import update

from imperioApp.extensions import db
from imperioApp.models import User
from imperioApp.models.base import utcnow
from imperioApp.services.operators import ledger_checks
from imperioApp.services.rounds import play


def spin(app, player, times=1):
    with app.app_context():
        for _ in range(times):
            play.spin_slots(player.id, 1)
            db.session.remove()


def shift_balance(app, player, by):
    with app.app_context():
        db.session.execute(update(User).where(User.id == player.id).values(balance=User.balance + by))
        db.session.commit()


def test_only_rows_since_the_checkpoints_are_read(app, make_player):
    alice, bob = make_player(), make_player()
    spin(app, alice, 3)
    with app.app_context():
        first = ledger_checks.check()
        assert first["ok"] and first["players_checked"] == 2 and first["rows_checked"] >= 5
        again = ledger_checks.check()
        assert again["ok"] and again["rows_checked"] == 0 and again["players_checked"] == 0
    spin(app, bob, 2)
    with app.app_context():
        later = ledger_checks.check(utcnow() + timedelta(hours=1))  # every row now older than the lag
        assert later["ok"] and later["players_checked"] == 1 and 2 <= later["rows_checked"] <= 4
        assert later["scanned_from_id"] == 0
        assert ledger_checks.check(utcnow() + timedelta(hours=1))["scanned_from_id"] > 0


def test_a_balance_off_its_ledger_is_reported_until_it_is_fixed(app, make_player):
    alice, bob = make_player(), make_player()
    with app.app_context():
        assert ledger_checks.check()["ok"]
    spin(app, alice)
    spin(app, bob)
    shift_balance(app, alice, 5)
    with app.app_context():
        found = ledger_checks.check()
        assert not found["ok"] and [o["user_id"] for o in found["offenders"]] == [alice.id]
        assert found["offenders"][0]["balance"] == found["offenders"][0]["ledger_sum"] + 5
        assert [o["user_id"] for o in ledger_checks.check()["offenders"]] == [alice.id]  # its checkpoint stayed
    shift_balance(app, alice, -5)
    with app.app_context():
        assert ledger_checks.check()["ok"]
