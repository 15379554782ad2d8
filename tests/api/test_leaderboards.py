"""Leaderboards: order and ties, pages, periods that roll over, your standing, bad input, freshness."""

import time
from datetime import datetime, timezone

import pytest

from imperioApp.extensions import cache
from imperioApp.services.engagement import leaderboards

from .helpers import assert_error


def board(client, player, **query):
    response = client.get("/leaderboard", query_string=query, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def spin(client, player, bet=1):
    response = client.post("/spin", json={"bet": bet}, headers=player.headers)
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def uncached(app):
    """Drop cached pages, for tests about boards rather than about the cache."""

    def clear():
        with app.app_context():
            cache.clear()

    return clear


@pytest.fixture
def at(monkeypatch):
    """Set the leaderboards' clock: at(2026, 11, 29, 23, 59)."""

    def set_clock(*parts):
        moment = datetime(*parts, tzinfo=timezone.utc)
        monkeypatch.setattr(leaderboards, "clock", lambda: moment)

    return set_clock


def test_boards_rank_by_score_then_lower_user_id(client, make_player, reels):
    alice, bob, carol = make_player(), make_player(), make_player()
    reels("three_lemons")  # each win nets the bet
    spin(client, carol, 5)
    spin(client, bob, 3)
    spin(client, alice, 3)
    reels(None)
    spin(client, alice, 1)
    body = board(client, alice, metric="total_winnings", timeframe="all_time")
    assert body["period"] == "all" and body["next_cursor"] is None
    assert [(e["rank"], e["username"], e["score"]) for e in body["items"]] == [
        (1, carol.username, 5),
        (2, bob.username, 3),
        (3, alice.username, 2),
    ]
    played = board(client, alice, metric="games_played", timeframe="daily")["items"]
    # alice 2; bob and carol tie on 1: the lower user id (bob signed up first) ranks first
    assert [(e["username"], e["score"]) for e in played] == [(alice.username, 2), (bob.username, 1), (carol.username, 1)]


def test_net_losers_rank_below_zero_and_biggest_win_lists_winners_only(client, make_player, reels):
    winner, loser = make_player(), make_player()
    reels(None)
    spin(client, loser, 7)
    reels("three_bananas")
    spin(client, winner, 2)  # nets 28
    reels("three_lemons")
    spin(client, winner, 1)  # nets 1: the biggest win stays 28
    winnings = board(client, winner, metric="total_winnings")["items"]
    assert [(e["username"], e["score"]) for e in winnings] == [(winner.username, 29), (loser.username, -7)]
    biggest = board(client, winner, metric="biggest_win", timeframe="weekly")["items"]
    assert [(e["username"], e["score"]) for e in biggest] == [(winner.username, 28)]


def test_pages_follow_the_cursor_to_the_end(client, make_player, reels):
    reels("three_lemons")
    players = [make_player() for _ in range(5)]
    for bet, player in enumerate(players, start=1):
        spin(client, player, bet)
    first = board(client, players[0], limit=2)
    assert [e["rank"] for e in first["items"]] == [1, 2] and first["next_cursor"] == 2
    second = board(client, players[0], limit=2, cursor=2)
    third = board(client, players[0], limit=2, cursor=4)
    assert [e["rank"] for e in second["items"]] == [3, 4] and [e["rank"] for e in third["items"]] == [5]
    assert third["next_cursor"] is None
    names = [e["username"] for page in (first, second, third) for e in page["items"]]
    assert names == [p.username for p in reversed(players)]
    assert board(client, players[0], limit=5)["next_cursor"] is None
    assert board(client, players[0], cursor=50)["items"] == []


def test_daily_and_weekly_boards_roll_over_at_the_utc_boundary(client, player, make_player, at, uncached):
    other = make_player()
    at(2026, 11, 29, 23, 59, 59)  # Sunday, ISO week 48
    spin(client, player)
    spin(client, player)
    assert board(client, player, metric="games_played", timeframe="daily")["period"] == "2026-11-29"
    assert board(client, player, metric="games_played", timeframe="weekly")["period"] == "2026-W48"
    at(2026, 11, 30, 0, 0, 0)  # Monday: a new day and a new ISO week
    for timeframe in ("daily", "weekly"):
        assert board(client, player, metric="games_played", timeframe=timeframe)["items"] == []
    assert board(client, player, metric="games_played", timeframe="all_time")["items"][0]["score"] == 2
    spin(client, other)
    uncached()
    daily = board(client, player, metric="games_played", timeframe="daily")
    assert daily["period"] == "2026-11-30" and [(e["username"], e["score"]) for e in daily["items"]] == [(other.username, 1)]
    at(2026, 12, 1, 12, 0, 0)  # Tuesday: a new day, the same week
    spin(client, other)
    uncached()
    assert board(client, player, metric="games_played", timeframe="daily")["items"][0]["score"] == 1
    weekly = board(client, player, metric="games_played", timeframe="weekly")
    assert weekly["period"] == "2026-W49" and [(e["username"], e["score"]) for e in weekly["items"]] == [(other.username, 2)]
    at(2026, 11, 29, 18, 0, 0)  # the old boards were never reset, only left behind
    assert board(client, player, metric="games_played", timeframe="weekly")["items"][0]["score"] == 2


def test_my_standing_on_every_board_with_neighbours(client, make_player, reels):
    reels("three_lemons")
    players = [make_player() for _ in range(4)]
    for bet, player in zip((8, 6, 4, 2), players, strict=True):
        spin(client, player, bet)
    me = players[1]
    standings = client.get("/leaderboard/me", headers=me.headers).get_json()
    assert len(standings) == 9
    assert {(s["metric"], s["timeframe"]) for s in standings} == {
        (m, t) for m in leaderboards.METRICS for t in leaderboards.TIMEFRAMES
    }
    winnings = next(s for s in standings if s["metric"] == "total_winnings" and s["timeframe"] == "all_time")
    assert (winnings["rank"], winnings["score"]) == (2, 6)
    assert winnings["above"] == {"rank": 1, "user_id": players[0].id, "username": players[0].username, "score": 8}
    assert winnings["below"] == {"rank": 3, "user_id": players[2].id, "username": players[2].username, "score": 4}
    top = client.get("/leaderboard/me", headers=players[0].headers).get_json()[0]
    assert top["rank"] == 1 and top["above"] is None and top["below"]["user_id"] == me.id
    last = client.get("/leaderboard/me", headers=players[3].headers).get_json()[0]
    assert last["rank"] == 4 and last["below"] is None and last["above"]["user_id"] == players[2].id


def test_neighbours_inside_and_across_a_tie(client, make_player, reels):
    reels("three_lemons")
    a, b, c, d, e = (make_player() for _ in range(5))
    for player, bet in ((a, 5), (b, 3), (c, 3), (d, 3), (e, 1)):
        spin(client, player, bet)

    def winnings(player):
        standing = client.get("/leaderboard/me", headers=player.headers).get_json()
        mine = next(s for s in standing if s["metric"] == "total_winnings" and s["timeframe"] == "weekly")
        return mine["rank"], mine["above"] and mine["above"]["user_id"], mine["below"] and mine["below"]["user_id"]

    assert winnings(b) == (2, a.id, c.id)
    assert winnings(c) == (3, b.id, d.id)
    assert winnings(d) == (4, c.id, e.id)
    assert winnings(e) == (5, d.id, None)


def test_standing_of_a_player_on_no_board(client, player):
    for standing in client.get("/leaderboard/me", headers=player.headers).get_json():
        assert standing["rank"] is None and standing["score"] is None
        assert standing["above"] is None and standing["below"] is None


def test_unknown_metric_or_timeframe_is_400_listing_the_valid_ones(client, player):
    error = assert_error(client.get("/leaderboard?metric=luck", headers=player.headers), 400, "invalid_metric")
    assert error["details"]["valid"] == ["total_winnings", "biggest_win", "games_played"]
    assert "total_winnings" in error["message"]
    error = assert_error(client.get("/leaderboard?timeframe=monthly", headers=player.headers), 400, "invalid_timeframe")
    assert error["details"]["valid"] == ["daily", "weekly", "all_time"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "limit=2.5",
        f"limit={2**64}",
        "cursor=-1",
        "cursor=10000",
        "cursor=x",
        f"cursor={2**70}",
    ],
)
def test_bad_pages_are_422(client, player, query):
    assert_error(client.get(f"/leaderboard?{query}", headers=player.headers), 422)


def test_leaderboards_need_a_token(client):
    assert_error(client.get("/leaderboard"), 401)
    assert_error(client.get("/leaderboard/me"), 401)


def test_top_is_the_realtime_layers_view(app, client, make_player, reels):
    reels("three_lemons")
    first, second = make_player(), make_player()
    spin(client, second, 4)
    spin(client, first, 4)
    with app.app_context():
        assert leaderboards.top("total_winnings", "daily", limit=1) == [
            {"rank": 1, "user_id": first.id, "username": first.username, "score": 4}
        ]
        assert [e["user_id"] for e in leaderboards.top("games_played", "all_time")] == [first.id, second.id]
        with pytest.raises(Exception) as raised:
            leaderboards.top("luck", "daily")
        assert raised.value.code == "invalid_metric"


def test_a_cached_board_is_never_more_than_a_second_stale(client, make_player, reels):
    reels("three_lemons")
    player, rival = make_player(), make_player()
    spin(client, player, 2)
    assert [e["score"] for e in board(client, player)["items"]] == [2]  # now cached
    spin(client, rival, 9)
    settled = time.monotonic()
    while True:
        asked = time.monotonic() - settled  # a request started later than 1 s must see the round
        items = board(client, player)["items"]
        if [e["username"] for e in items] == [rival.username, player.username]:
            break
        assert asked <= 1.0, f"a request made {asked:.2f}s after the round still saw the old board"
        time.sleep(0.05)


def test_the_rebuild_command(app, runner):
    result = runner.invoke(args=["leaderboard", "rebuild"])
    assert result.exit_code == 0
    if app.config["REDIS_URL"]:
        assert result.output.count(": rebuilt") == 9
    else:
        assert "nothing to rebuild" in result.output


def _around(client, player, limit, **query):
    body = board(client, player, metric="total_winnings", timeframe="all_time", around="me", limit=limit, **query)
    return body["rank"], [entry["rank"] for entry in body["items"]]


def test_around_me_is_the_window_of_places_around_yours_at_the_top_middle_and_bottom(client, make_player, reels):
    """Nakama #224/#755: records around the owner, at rank 1 and at the bottom too."""
    reels("three_lemons")
    players = [make_player() for _ in range(7)]
    for bet, player in enumerate(players, 1):
        spin(client, player, 8 - bet)  # players[0] first with 7, players[6] last with 1
    top, middle, bottom = players[0], players[3], players[6]
    assert _around(client, top, 3) == (1, [1, 2, 3])
    assert _around(client, middle, 3) == (4, [3, 4, 5])
    assert _around(client, middle, 4) == (4, [3, 4, 5, 6])
    assert _around(client, bottom, 3) == (7, [6, 7])
    assert _around(client, bottom, 1) == (7, [7])
    assert _around(client, middle, 100) == (4, [1, 2, 3, 4, 5, 6, 7])
    window = board(client, middle, metric="total_winnings", timeframe="all_time", around="me", limit=1)
    assert window["items"] == [{"rank": 4, "user_id": middle.id, "username": middle.username, "score": 4}]
    assert window["next_cursor"] is None and window["period"] == "all"


def test_around_me_off_the_board_and_bad_windows(client, make_player, player):
    assert _around(client, player, 5) == (None, [])
    for query in ("around=you", "around=me&limit=0", "around=me&limit=101", "around=me&limit=1.5", "around=me&limit=-3"):
        assert_error(client.get(f"/leaderboard?{query}", headers=player.headers), 422)
    assert_error(client.get("/leaderboard?around=me&metric=luck", headers=player.headers), 400, "invalid_metric")
    assert_error(client.get("/leaderboard?around=me"), 401)
