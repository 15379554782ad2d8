"""The Redis leaderboard index: read source when loaded, version-guarded, rebuilt, bypassed when down."""

import logging
import time
from types import SimpleNamespace

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from imperioApp.adapters import breaker, leaderboard_index
from imperioApp.extensions import cache, redis_store
from imperioApp.services.engagement import leaderboards
from tests.api.helpers import assert_ledger_holds

pytestmark = pytest.mark.redis


def spin(client, player, bet=1):
    assert client.post("/spin", json={"bet": bet}, headers=player.headers).status_code == 200


def scores(client, player, metric="total_winnings", timeframe="all_time"):
    body = client.get(f"/leaderboard?metric={metric}&timeframe={timeframe}", headers=player.headers).get_json()
    return [(e["user_id"], e["score"]) for e in body["items"]]


def forget_pages(app):
    with app.app_context():
        cache.clear()


def test_reads_come_from_the_index_and_a_rebuild_restores_the_database_truth(app, client, runner, player, reels):
    reels("three_lemons")
    spin(client, player, 5)
    assert scores(client, player) == [(player.id, 5)]
    key = leaderboard_index.key("total_winnings", "all")
    with app.app_context():
        store = redis_store.client
        assert store.exists(key + ":ready")
        assert store.zscore(key, leaderboard_index.member(player.id)) == 5
        store.zadd(key, {leaderboard_index.member(player.id): 999})  # tamper with the index only
    forget_pages(app)
    assert scores(client, player) == [(player.id, 999)]  # served by Redis
    result = runner.invoke(args=["leaderboard", "rebuild"])
    assert result.exit_code == 0 and result.output.count("rebuilt") == 9
    forget_pages(app)
    assert scores(client, player) == [(player.id, 5)]


def test_an_operators_rebuild_waits_for_one_under_way_where_a_read_would_skip(app, runner, monkeypatch):
    lock = leaderboard_index.key("games_played", "all") + ":lock"
    with app.app_context():
        store = redis_store.client
        store.set(lock, "another process", ex=120)
        assert leaderboards.rebuild_board("games_played", "all_time", "all") is False  # a read does not wait
    waits = []

    def the_other_rebuild_finishes(seconds):
        waits.append(seconds)
        store.delete(lock)

    monkeypatch.setattr(leaderboard_index, "time", SimpleNamespace(monotonic=time.monotonic, sleep=the_other_rebuild_finishes))
    result = runner.invoke(args=["leaderboard", "rebuild"])
    assert result.exit_code == 0 and result.output.count(": rebuilt") == 9, result.output
    assert waits, "the rebuild never met the other one's lock"


def test_writes_apply_only_if_newer(app, player):
    with app.app_context():
        writes = [("games_played", "all", "all_time", player.id, 7, 7)]
        leaderboard_index.push(writes)
        leaderboard_index.push([("games_played", "all", "all_time", player.id, 5, 5)])  # late, out of order
        store = redis_store.client
        assert store.zscore(leaderboard_index.key("games_played", "all"), leaderboard_index.member(player.id)) == 7


def test_index_orders_ties_like_the_database(app, client, make_player, reels):
    reels("three_lemons")
    players = [make_player() for _ in range(4)]
    for player in reversed(players):
        spin(client, player, 3)
    from_index = scores(client, players[0])
    with app.app_context():
        from_database = [(row[0], row[2]) for row in leaderboards._db_range("total_winnings", "all", 0, 10)]
    assert from_index == from_database == [(p.id, 3) for p in players]


def test_a_flushed_redis_is_reloaded_on_the_next_read(app, client, player, reels):
    reels("three_lemons")
    spin(client, player, 4)
    assert scores(client, player) == [(player.id, 4)]
    with app.app_context():
        redis_store.client.flushdb()  # a restart of a Redis that keeps nothing
    spin(client, player, 1)  # writes land in the empty index, which is not marked loaded
    assert scores(client, player) == [(player.id, 5)]


def dead_redis():
    """A client of a Redis that is not there, failing at once (no retries)."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


@pytest.fixture
def redis_down(app, monkeypatch):
    """Point the app's Redis client at a closed port until the test ends."""
    monkeypatch.setitem(app.extensions, "redis", dead_redis())


def test_rounds_settle_and_boards_read_from_the_database_while_redis_is_down(app, client, player, reels, redis_down, caplog):
    reels("three_lemons")
    with caplog.at_level(logging.WARNING):
        assert scores(client, player) == []  # the read fails over to the database
        with app.app_context():
            breaker.reset()
        spin(client, player, 3)  # the after-commit index update fails; the round stands
        forget_pages(app)
        assert scores(client, player) == [(player.id, 3)]
        standings = client.get("/leaderboard/me", headers=player.headers).get_json()
    assert standings[0]["rank"] == 1 and standings[0]["score"] == 3
    logged = caplog.text
    assert "leaderboard_index_update_failed" in logged and "leaderboard_index_unavailable" in logged


def test_a_board_that_missed_an_update_is_rebuilt_once_redis_is_back(app, client, player, reels, monkeypatch):
    reels("three_lemons")
    spin(client, player, 2)
    assert scores(client, player) == [(player.id, 2)]  # loaded into the index
    healthy = app.extensions["redis"]
    monkeypatch.setitem(app.extensions, "redis", dead_redis())
    spin(client, player, 3)  # the index misses this round, and the breaker opens
    monkeypatch.setitem(app.extensions, "redis", healthy)
    with app.app_context():
        assert not leaderboard_index.available()
        breaker.reset()  # as the cooldown would
    forget_pages(app)
    assert scores(client, player) == [(player.id, 5)]


def test_past_period_boards_expire_and_the_all_time_boards_stay(app, client, player, reels):
    reels("three_lemons")
    spin(client, player, 2)
    with app.app_context():
        store = redis_store.client
        periods = leaderboards.current_periods()
        for timeframe in ("daily", "weekly"):
            board = leaderboard_index.key("games_played", periods[timeframe])
            for name in (board, board + ":v"):
                assert 0 < store.ttl(name) <= leaderboard_index.TTL_SECONDS[timeframe], name
            store.persist(board)  # a later round of a player already on the board sets no new TTL
        spin(client, player, 2)
        assert store.ttl(leaderboard_index.key("games_played", periods["daily"])) == -1
        assert store.zscore(leaderboard_index.key("games_played", periods["daily"]), leaderboard_index.member(player.id)) == 2
        all_time = leaderboard_index.key("games_played", "all")
        assert store.ttl(all_time) == store.ttl(all_time + ":v") == -1
    assert_ledger_holds(app)
