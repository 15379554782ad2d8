"""Two processes running `flask tournaments close-due` at once pay each prize exactly once (PostgreSQL)."""

import subprocess
import sys

import pytest
from sqlalchemy import func, select, update

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, TournamentPeriod
from tests.api.helpers import assert_ledger_holds
from tests.processes import ROOT, production_env
from tests.tournaments import create, join, now, spin

pytestmark = pytest.mark.postgres


def test_two_processes_closing_the_same_period_pay_each_prize_once(app, client, make_player, make_admin, reels):
    admin = make_admin()
    players = [make_player(balance=100) for _ in range(3)]
    tournament = create(app, admin, entry_fee=10, prize_pool={"mode": "entry_fees", "rake_percent": 0}, payouts=[50, 30, 20])
    reels(None)
    for bet, player in enumerate(players, 1):
        assert join(client, player, tournament["id"]).status_code == 201
        spin(client, player, bet)
    with app.app_context():
        db.session.execute(
            update(TournamentPeriod)
            .where(TournamentPeriod.id == tournament["period"]["id"])
            .values(ends_at=now())  # after every round above
        )
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
        db.session.remove()
    env = production_env(DATABASE_URL=url, TOURNAMENT_CLOSE_GRACE_SECONDS="0", FLASK_APP="imperioApp:create_app")
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "flask", "tournaments", "close-due"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    with app.app_context():
        prizes = db.session.execute(
            select(LedgerEntry.user_id, func.count(), func.sum(LedgerEntry.amount))
            .where(LedgerEntry.type == "tournament_prize")
            .group_by(LedgerEntry.user_id)
            .order_by(LedgerEntry.user_id)
        ).all()
        db.session.remove()
    assert [(user_id, count, amount) for user_id, count, amount in prizes] == [
        (players[0].id, 1, 6),
        (players[1].id, 1, 9),
        (players[2].id, 1, 15),
    ]
    assert_ledger_holds(app)
