"""Every engagement endpoint runs a fixed number of SQL statements, however much data exists."""

from imperioApp.extensions import cache
from imperioApp.services.engagement import leaderboards

from .helpers import count_queries

# (method, path, the most statements it may run) with the cache empty, on either database
# and whether or not Redis carries the token blocklist and the leaderboard index.
BUDGETS = [
    ("GET", "/transactions?limit=5", 2),
    ("GET", "/transactions?limit=5&type=bet&game_type=slots&from=2020-01-01T00:00:00Z&cursor={transaction}", 2),
    ("GET", "/transactions/recent", 2),
    ("GET", "/transactions/{transaction}", 2),
    ("GET", "/statistics", 2),
    ("GET", "/statistics/game/slots", 2),
    ("GET", "/achievements", 1),
    ("GET", "/achievements/user", 2),
    ("GET", "/achievements/progress", 3),
    ("POST", "/achievements/{achievement}/seen", 2),
    ("GET", "/leaderboard?metric=total_winnings&timeframe=weekly&limit=10", 2),
    ("GET", "/leaderboard/me", 4),
    ("GET", "/notifications?limit=5", 2),
    ("GET", "/notifications?unread=true&limit=5&cursor={notification}", 2),
    ("POST", "/notifications/{notification}/read", 2),
    ("POST", "/notifications/read-all", 2),
    ("GET", "/profile", 7),
    ("GET", "/profile/{other}", 3),
    ("PATCH", "/profile", 8),
]


def play_some(client, player, rounds):
    for _ in range(rounds):
        assert client.post("/spin", json={"bet": 1}, headers=player.headers).status_code == 200


def measure(app, client, player, ids):
    """{path: statements} for every endpoint, each with an empty cache (the worst case)."""
    counts = {}
    for method, template, _ in BUDGETS:
        path = template.format(**ids)
        with app.app_context():
            cache.clear()
            leaderboards.rebuild_index()  # with Redis: every board loaded, as in steady state
        with count_queries(app) as queries:
            response = client.open(
                path, method=method, headers=player.headers, json={"public_stats": True} if method == "PATCH" else None
            )
        assert response.status_code == 200, (path, response.get_json())
        counts[(method, template)] = queries.count
    return counts


def ids_of(client, player, other):
    return {
        "transaction": client.get("/transactions/recent", headers=player.headers).get_json()[-1]["id"],
        "notification": client.get("/notifications", headers=player.headers).get_json()["items"][0]["id"],
        "achievement": client.get("/achievements/user", headers=player.headers).get_json()[0]["id"],
        "other": other.username,
    }


def test_statement_counts_are_bounded_and_independent_of_data_size(app, client, make_player):
    player, other = make_player(balance=10_000), make_player()
    play_some(client, player, 3)
    play_some(client, other, 1)
    small = measure(app, client, player, ids_of(client, player, other))
    for method, template, budget in BUDGETS:
        assert small[(method, template)] <= budget, (template, small[(method, template)], budget)

    crowd = [make_player() for _ in range(15)]
    for someone in crowd:
        play_some(client, someone, 3)
    play_some(client, player, 40)  # more rows of every kind for the player: ledger, unlocks, notifications
    large = measure(app, client, player, ids_of(client, player, other))
    assert large == small
