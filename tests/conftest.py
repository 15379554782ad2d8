"""Fixtures shared by the API and integration tests: game outcomes forced through the pure engines, events seen."""

from collections import defaultdict

import pytest
from sqlalchemy import update

from imperioApp.extensions import db
from imperioApp.games import blackjack, roulette, slots
from imperioApp.models import User
from imperioApp.services.core import events


@pytest.fixture
def deal(monkeypatch):
    """Stack the shoe: deal(order) makes the next round deal these cards, first to last."""

    def stack(*names):
        cards = [blackjack.make_card(name) for name in names]
        monkeypatch.setattr(blackjack, "start", lambda rng, wager: blackjack.deal(blackjack.Shoe.stacked(cards), wager))

    return stack


@pytest.fixture
def pocket(monkeypatch):
    """Make the next spins land on a chosen pocket."""

    def land_on(number):
        monkeypatch.setattr(roulette, "spin", lambda rng: number)

    return land_on


@pytest.fixture
def reels(monkeypatch):
    """Make the next spins show a paytable combination (None: a losing spin)."""

    def show(combination):
        multiplier = next((row[3] for row in slots.PAYTABLE if row[0] == combination), 0)

        def spin(rng, bet):
            return slots.SlotsOutcome(
                bet=bet,
                segments=(15, 15, 15),
                positions=(8, 8, 8),
                fruits=("cherry", "lemon", "lemon"),
                combination=combination,
                multiplier=multiplier,
                payout=bet * multiplier,
            )

        monkeypatch.setattr(slots, "spin", spin)

    return show


@pytest.fixture
def published(app, monkeypatch):
    """Every event the bus delivers during the test, as [(name, payload)]."""
    seen = []
    with app.app_context():
        bus = events.bus()
    # A fresh subscriber table for this test only; the app's own subscribers stay wired.
    monkeypatch.setattr(bus, "_subscribers", defaultdict(list, {name: list(h) for name, h in bus._subscribers.items()}))
    bus.subscribe("*", lambda name, payload: seen.append((name, payload)))
    return seen


@pytest.fixture
def make_admin(app, make_player):
    """A player whose stored role is admin (the role the moderation checks read)."""

    def factory(**kwargs):
        admin = make_player(**kwargs)
        with app.app_context():
            db.session.execute(update(User).where(User.id == admin.id).values(role="admin"))
            db.session.commit()
            db.session.remove()
        return admin

    return factory
