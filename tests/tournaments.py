"""Helpers shared by the tournament tests: definitions, the tournaments' clock, spins."""

from datetime import datetime, timedelta, timezone

from imperioApp.services.competitions import tournaments
from imperioApp.services.operators import tournaments as operator_tournaments
from imperioApp.services.operators.audit import Operator


def now():
    return datetime.now(timezone.utc)


def definition(**overrides):
    """A running (one hour either side of now) wagered race on every game, 100 coins fixed, 60/40."""
    base = {
        "title": "Weekend race",
        "metric": "wagered",
        "starts_at": now() - timedelta(hours=1),
        "ends_at": now() + timedelta(hours=1),
        "prize_pool": {"mode": "fixed", "amount": 100},
        "payouts": [60, 40],
    }
    base.update(overrides)
    return base


def create(app, admin, **overrides):
    """Create a tournament as `admin` through the operators' service; return its public view."""
    with app.app_context():
        return operator_tournaments.create(Operator(admin.id), definition(**overrides))


def move_clock(monkeypatch, moment):
    """The tournaments' clock (closing, joining, phases) now reads `moment`."""
    monkeypatch.setattr(tournaments, "clock", lambda: moment)


def spin(client, player, bet=1):
    response = client.post("/spin", json={"bet": bet}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def join(client, player, tournament_id, key=None):
    headers = dict(player.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"/tournaments/{tournament_id}/join", headers=headers)
