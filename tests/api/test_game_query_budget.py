"""Every game endpoint runs a fixed number of SQL statements and Redis round trips per round.

The settlement hot path is counted where it leaves the process: SQLAlchemy's statements,
the statements sent on the driver directly (services.driver), and every packet written to
Redis (a pipeline or a script is one round trip). A budget that grows fails here.
"""

import threading
from contextlib import contextmanager

import pytest
from redis.connection import AbstractConnection

from imperioApp.adapters import driver

from .helpers import count_queries

# The limits per round: (SQL statements on PostgreSQL, on SQLite, Redis round trips with Redis).
# PostgreSQL: a new round whose draw the process expected (every round after a player's
# first here) claims its nonce in the settlement statement, which opens the transaction in
# the same round trip, then COMMIT; a blackjack action locks its round first, then the
# settlement statement, COMMIT. SQLite runs the settlement's
# writes one by one. Without Redis the token revocation lookup adds one statement; with
# it, one Redis round trip, and a settled round one more after commit (the leaderboard
# index and the push windows in one script).
BUDGETS = {
    "spin": (2, 6, 2),
    "roulette": (2, 6, 2),
    "legacy_roulette": (2, 6, 2),
    "blackjack_start": (2, 4, 1),  # an open round: nothing to score yet
    "blackjack_stand": (3, 6, 2),
}
REVOCATION_LOOKUP = 1
SLOTS = ("/spin", {"bet": 1})
ROULETTE = ("/roulette/spin", {"bets": [{"type": "red", "amount": 2}, {"type": "straight", "numbers": [17], "amount": 1}]})
LEGACY_ROULETTE = (
    "/roulette/action",
    {"bet": [{"amt": 2, "numbers": "1,3,5,7,9,12,14,16,18,19,21,23,25,27,30,32,34,36", "odds": 1, "type": "red"}]},
)


@contextmanager
def count_redis_round_trips():
    """Count the packets this thread writes to Redis inside the block."""
    counter = {"count": 0}
    thread = threading.get_ident()
    original = AbstractConnection.send_packed_command

    def send(self, command, check_health=True):
        if threading.get_ident() == thread:
            counter["count"] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = send
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = original


@contextmanager
def count_everything(app):
    sent = []
    thread = threading.get_ident()

    def on_driver(sql):
        # A PREPARE is sent once per pooled connection, not per round (tests/services/rounds/test_settlement.py).
        if threading.get_ident() == thread and not sql.startswith("PREPARE "):
            sent.append(sql)

    driver.listeners.append(on_driver)
    try:
        with count_queries(app) as queries, count_redis_round_trips() as redis:
            yield sent, queries, redis
    finally:
        driver.listeners.remove(on_driver)


def measure(app, call):
    """(statements, Redis round trips) of the cheapest of three rounds (a round that unlocks costs more)."""
    counts = []
    for _ in range(3):
        with count_everything(app) as (sent, queries, redis):
            call()
        counts.append((len(sent) + queries.count, redis["count"]))
    return min(counts)


@pytest.fixture
def no_default_limit(app, monkeypatch):
    # The suite's config turns on a generous app-wide limit; production has none by default.
    monkeypatch.setitem(app.config, "RATELIMIT_DEFAULT", None)


def test_game_endpoints_stay_within_their_budget(app, client, make_player, reels, pocket, deal, no_default_limit):
    player = make_player(balance=100_000)
    reels(None)  # losing spins: no big win, no streak achievements
    pocket(2)  # black, not 17: the roulette bets below lose too (a winning run would unlock streaks)
    headers = player.headers

    def post(path, body):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    for _ in range(3):  # the first rounds unlock the "first game" achievements
        post(*SLOTS), post(*ROULETTE)
    deal("10", "9", "7", "8", "10", "7", "9", "10", "8", "9", "7", "10", "6")
    post("/blackjack/start", {"wager": 2})
    with app.app_context():
        dialect = app.extensions["sqlalchemy"].engine.dialect.name
    has_redis = bool(app.config.get("REDIS_URL"))

    open_games = []

    def start():
        open_games.append(post("/blackjack/start", {"wager": 2})["id"])

    def stand():
        post("/blackjack/action", {"action": "stand", "game_id": open_games.pop()})

    calls = {
        "spin": lambda: post(*SLOTS),
        "roulette": lambda: post(*ROULETTE),
        "legacy_roulette": lambda: post(*LEGACY_ROULETTE),
        "blackjack_start": start,
    }
    found = {name: measure(app, call) for name, call in calls.items()}
    for _ in range(2):
        start()
    found["blackjack_stand"] = measure(app, stand)
    for name, (statements, round_trips) in found.items():
        postgres, sqlite, redis = BUDGETS[name]
        budget = (postgres if dialect == "postgresql" else sqlite) + (0 if has_redis else REVOCATION_LOOKUP)
        assert statements <= budget, (name, statements, budget)
        assert round_trips <= (redis if has_redis else 0), (name, round_trips)


def test_a_tournament_costs_its_entrants_no_statement_on_postgresql_and_everyone_else_nothing(
    app, client, make_player, make_admin, reels, no_default_limit
):
    from imperioApp.services.competitions import entries, scoring
    from tests.tournaments import create

    admin = make_admin()
    entrant, outsider = make_player(balance=100_000), make_player(balance=100_000)
    tournament = create(app, admin)
    with app.app_context():
        entries.join(entrant.id, tournament["id"])
    reels(None)

    def spin_as(player):
        def call():
            response = client.post(*SLOTS[:1], json=SLOTS[1], headers=player.headers)
            assert response.status_code == 200, response.get_json()

        return call

    for _ in range(3):  # the first rounds unlock the "first game" achievements
        spin_as(entrant)(), spin_as(outsider)()
    with app.app_context():
        dialect = app.extensions["sqlalchemy"].engine.dialect.name
    postgres, sqlite, _ = BUDGETS["spin"]
    budget = (postgres if dialect == "postgresql" else sqlite) + (0 if app.config.get("REDIS_URL") else REVOCATION_LOOKUP)
    outsider_statements = measure(app, spin_as(outsider))[0]
    entrant_statements = measure(app, spin_as(entrant))[0]
    assert outsider_statements <= budget
    # PostgreSQL folds the upsert into the round's statement once the process has seen the
    # player competing (the rounds above); SQLite runs it as one statement more.
    assert entrant_statements == outsider_statements + (0 if dialect == "postgresql" else 1)
    with app.app_context():
        check = scoring.check(tournament["id"])
    assert check["ok"], check
    assert check["entries_checked"] == 1
