"""The hourly rollups answer every range exactly as the rounds themselves do."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from imperioApp.extensions import db
from imperioApp.models import GameRound, User
from imperioApp.services.operators import actions, rollups
from imperioApp.services.operators.audit import Operator
from imperioApp.services.rounds import play

_rounds = GameRound.__table__
NOW = datetime(2026, 12, 8, 12, 30, tzinfo=timezone.utc)


def raw_totals(since, until):
    query = select(_rounds.c.game_type, func.count(), func.sum(_rounds.c.bet), func.sum(_rounds.c.payout)).where(
        _rounds.c.status == "settled"
    )
    if since is not None:
        query = query.where(_rounds.c.settled_at >= since)
    if until is not None:
        query = query.where(_rounds.c.settled_at < until)
    rows = db.session.execute(query.group_by(_rounds.c.game_type)).all()
    db.session.remove()
    return {game: (count, int(wagered), int(paid)) for game, count, wagered, paid in rows}


@pytest.fixture
def spread_rounds(app, make_player):
    """Forty settled slot rounds, one every 17 minutes back from NOW, some of them winning."""
    player = make_player(balance=10_000)
    with app.app_context():
        for n in range(40):
            play.spin_slots(player.id, 1 + n % 7)
            db.session.remove()
        ids = db.session.execute(select(_rounds.c.id).order_by(_rounds.c.id)).scalars().all()
        for n, round_id in enumerate(ids):
            at = NOW - timedelta(minutes=17 * n)
            db.session.execute(update(_rounds).where(_rounds.c.id == round_id).values(settled_at=at, created_at=at))
        db.session.commit()
    return player


RANGES = [
    (None, None),
    (NOW - timedelta(hours=3, minutes=7), None),
    (None, NOW - timedelta(hours=2, minutes=41)),
    (NOW - timedelta(hours=9, minutes=1), NOW - timedelta(hours=1, minutes=59)),
    (NOW - timedelta(hours=5), NOW - timedelta(hours=4)),
    (NOW - timedelta(minutes=20), NOW - timedelta(minutes=10)),
]


def test_totals_match_the_rounds_before_during_and_after_rolling_up(app, spread_rounds):
    with app.app_context():
        expected = [raw_totals(*span) for span in RANGES]
        assert [rollups.totals(*span) for span in RANGES] == expected  # nothing summarised yet
        assert rollups.roll_up(NOW - timedelta(hours=4)) > 0
        assert [rollups.totals(*span) for span in RANGES] == expected  # partly summarised
        rollups.roll_up(NOW + timedelta(hours=1))
        assert rollups.watermark() == NOW.replace(minute=0) + timedelta(hours=1)
        assert rollups.roll_up(NOW + timedelta(hours=1)) == 0  # nothing new: nothing done
        assert [rollups.totals(*span) for span in RANGES] == expected
        rollups.roll_up(NOW + timedelta(hours=1), since=NOW - timedelta(days=1))  # again from a given hour
        assert [rollups.totals(*span) for span in RANGES] == expected


def test_biggest_wins_are_the_same_from_the_rollup(app, spread_rounds, make_player):
    admin = make_player()
    operator = Operator(admin.id, "test")
    with app.app_context():
        db.session.execute(update(User).where(User.id == admin.id).values(role="admin"))
        db.session.commit()
        before = [actions.biggest_wins(operator, *span, limit=3) for span in RANGES]
        assert any(before)
        rollups.roll_up(NOW + timedelta(hours=1))
        assert [actions.biggest_wins(operator, *span, limit=3) for span in RANGES] == before
        assert actions.biggest_wins(operator, game_type="roulette") == []
