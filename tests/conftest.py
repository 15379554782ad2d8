"""Test fixtures: app → db → client, factories, and the ledger invariant after every test.

The database is SQLite in a temporary file unless TEST_DATABASE_URL names another
(PostgreSQL in CI); Redis is used when TEST_REDIS_URL is set. The schema is built once per
run by the migrations themselves; every test starts from empty tables.

Also the fixtures the API and integration tests share: game outcomes forced through the pure
engines, events seen, admins.
"""

import os
from collections import defaultdict

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect, text, update

from imperioApp import create_app
from imperioApp.adapters import breaker
from imperioApp.extensions import cache, limiter, redis_store
from imperioApp.extensions import db as _db
from imperioApp.games import blackjack, roulette, slots
from imperioApp.models import User
from imperioApp.realtime import init_socketio, stop_background_tasks
from imperioApp.realtime import reset_state as reset_realtime_state
from imperioApp.services.core import events
from imperioApp.services.money import fairness
from tests.cleanup import check_and_clean

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs TEST_DATABASE_URL pointing at PostgreSQL")
    config.addinivalue_line("markers", "redis: needs TEST_REDIS_URL")
    config.addinivalue_line("markers", "simulation: long statistical simulations of the game engines")
    config.addinivalue_line(
        "markers", "rng_audit: the RNG audit's quick run (minutes, needs dieharder); runs only when selected with -m"
    )
    if REQUIRE_SERVICES and not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")):
        raise pytest.UsageError("REQUIRE_SERVICES=1 but TEST_DATABASE_URL / TEST_REDIS_URL are unset")


def pytest_collection_modifyitems(config, items):
    is_postgres = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres", "postgresql"))
    has_redis = bool(os.environ.get("TEST_REDIS_URL"))
    audit_selected = "rng_audit" in (config.getoption("markexpr") or "")
    for item in items:
        if item.get_closest_marker("rng_audit") and not audit_selected:
            item.add_marker(pytest.mark.skip(reason="the RNG audit's quick run: select it with -m rng_audit"))
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL test: set TEST_DATABASE_URL=postgresql://..."))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="Redis test: set TEST_REDIS_URL=redis://..."))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def drop_everything(engine):
    """Drop every table, alembic's included, so the migrations build the schema from nothing."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        drop_everything(_db.engine)
        upgrade()
    return app


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _fresh_state_and_ledger_invariant(request):
    """After each test: the ledger must match every balance; then empty every table."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _db.session.remove()
        drift = check_and_clean(_db.engine)
        client = redis_store.client
        if client is not None:
            client.flushdb()
        cache.clear()  # ids restart with the tables: cached reads must not outlive their rows
        fairness.forget_expected_draws(app)
        breaker.reset()
        limiter.reset()
    reset_realtime_state(app)
    assert not drift, f"ledger drift (user, what, stored, from ledger): {drift}"


@pytest.fixture
def player(app):
    """A signed-up player holding the sign-up bonus."""
    from tests.factories import make_player

    return make_player(app)


@pytest.fixture
def make_player(app):
    """Build more players: make_player(balance=20, username=...)."""
    from tests.factories import make_player as factory

    return lambda **kwargs: factory(app, **kwargs)


@pytest.fixture
def make_app(app):
    """Build a separate app (own config) for one test, then rebind the shared extensions.

    Flask-Limiter and Flask-SocketIO keep their state on the one global extension object,
    so the last app initialised owns it; the session app takes it back afterwards.
    """
    built = []

    def factory(config="testing", **overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
        built.append(create_app(config, **overrides))
        return built[-1]

    yield factory
    # Their background tasks would otherwise go on emitting through the shared socketio
    # object into later tests' sockets.
    for extra in built:
        stop_background_tasks(extra)
    limiter.init_app(app)
    init_socketio(app)


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
    bus.subscribe(events.ANY, lambda name, payload: seen.append((name, payload)))
    return seen


@pytest.fixture
def make_admin(app, make_player):
    """A player whose stored role is admin (the role the moderation checks read)."""

    def factory(**kwargs):
        admin = make_player(**kwargs)
        with app.app_context():
            _db.session.execute(update(User).where(User.id == admin.id).values(role="admin"))
            _db.session.commit()
            _db.session.remove()
        return admin

    return factory
