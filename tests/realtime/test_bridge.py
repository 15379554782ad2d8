"""Domain events become emits: big wins to everyone, notifications to their user, and
leaderboard pushes coalesced per board."""

import threading

import pytest

from imperioApp.realtime import leaderboards
from imperioApp.services.core import events
from imperioApp.services.engagement import board_push_store

from .helpers import assert_error, end_interval


class FakeLeaderboards:
    """Stands in for services.leaderboards: `top` returns whatever `state` holds now."""

    METRICS = ("total_winnings", "biggest_win", "games_played")
    TIMEFRAMES = ("daily", "weekly", "all_time")

    def __init__(self):
        self.state = 0
        self.calls = 0
        self.lock = threading.Lock()

    def top(self, metric, timeframe, limit=10):
        with self.lock:
            self.calls += 1
            return [{"rank": 1, "user_id": 1, "username": "leader", "score": self.state}]


@pytest.fixture
def boards(app):
    """A fake leaderboard service, restored afterwards."""
    fake = FakeLeaderboards()
    saved = app.extensions[leaderboards._SOURCE]
    app.extensions[leaderboards._SOURCE] = leaderboards.LeaderboardSource(fake)
    yield fake
    app.extensions[leaderboards._SOURCE] = saved


def settle_event(app, n=1):
    with app.test_request_context():
        for _ in range(n):
            events.bus().publish(events.ROUND_SETTLED, {"user_id": 1, "game_type": "slots", "net": 1})


def test_a_big_win_is_announced_to_every_socket(app, client, connect, player, make_player, monkeypatch):
    monkeypatch.setitem(app.config, "BIG_WIN_THRESHOLD", 1)
    watcher, anonymous = connect(make_player()), connect()
    for _ in range(200):
        body = client.post("/spin", json={"bet": 5}, headers=player.headers).get_json()
        if body["payout"] > 5:
            break
    else:
        pytest.fail("no win in 200 spins")
    expected = {"username": player.username, "amount": body["payout"] - 5, "game_type": "slots"}
    assert watcher.events("big_win_announcement") == [expected]
    assert anonymous.events("big_win_announcement") == [expected]


def test_small_wins_are_not_announced(app, client, connect, player, make_player):
    watcher = connect(make_player())
    for _ in range(20):
        client.post("/spin", json={"bet": 1}, headers=player.headers)
    assert watcher.events("big_win_announcement") == []


def test_notifications_and_achievements_go_to_their_user_only(app, connect, player, make_player):
    mine, theirs = connect(player), connect(make_player())
    with app.test_request_context():
        events.bus().publish(events.NOTIFICATION, {"user_id": player.id, "notification": {"id": 1, "type": "achievement"}})
        events.bus().publish(events.ACHIEVEMENT_UNLOCKED, {"user_id": player.id, "code": "first_slots"})
    assert mine.events("new_notification") == [{"notification": {"id": 1, "type": "achievement"}}]
    assert mine.events("achievement_unlocked") == [{"code": "first_slots"}]
    assert theirs.names() == ["authenticated"]


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"metric": "luck", "timeframe": "daily"}, "invalid_metric"),
        ({"metric": "games_played", "timeframe": "hourly"}, "invalid_timeframe"),
        ({"metric": "games_played"}, "validation_error"),
        ({"metric": 3, "timeframe": "daily"}, "validation_error"),
        (["games_played", "daily"], "validation_error"),
    ],
)
def test_join_leaderboard_validates_the_board(connect, player, boards, payload, code):
    sock = connect(player)
    sock.emit("join_leaderboard", payload)
    assert_error(sock, code, "join_leaderboard")


def test_joining_a_board_sends_its_state_then_pushes_are_coalesced(app, connect, player, boards, ticks):
    sock = connect(player)
    boards.state = 1
    reply = sock.emit("join_leaderboard", {"metric": "games_played", "timeframe": "daily"})
    assert reply["leaderboard"][0]["score"] == 1
    assert sock.take("leaderboard_update") == [reply]

    for state in range(2, 12):  # a burst of ten rounds inside one interval
        boards.state = state
        settle_event(app)
    ticks.settle()
    assert sock.events("leaderboard_update") == []  # nothing pushed during the window
    end_interval(ticks)
    assert sock.take("leaderboard_update") == [
        {
            "metric": "games_played",
            "timeframe": "daily",
            "leaderboard": [{"rank": 1, "user_id": 1, "username": "leader", "score": 11}],
        }
    ]
    assert ticks.asleep == 0  # no change since the push: the window closed
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []  # no second push without a change


def test_under_constant_change_a_board_is_pushed_at_most_once_per_interval(app, connect, player, boards, ticks):
    sock = connect(player)
    sock.emit("join_leaderboard", {"metric": "biggest_win", "timeframe": "all_time"})
    sock.take("leaderboard_update")
    read = boards.top

    def read_then_change(metric, timeframe, limit=10):
        rows = read(metric, timeframe, limit)
        if metric == "biggest_win" and timeframe == "all_time":
            boards.state += 1  # a round settles while the board is being pushed
            settle_event(app)
        return rows

    boards.top = read_then_change
    boards.state = 1
    settle_event(app)
    for interval in range(5):
        for _ in range(3):  # more changes within the interval
            boards.state += 1
            settle_event(app)
        ticks.settle()
        assert sock.events("leaderboard_update") == [], interval  # nothing inside an interval
        expected = boards.state
        end_interval(ticks)
        pushed = sock.take("leaderboard_update")
        assert [update["leaderboard"][0]["score"] for update in pushed] == [expected], interval
    boards.top = read  # the changes stop: the last one is still pushed, then the window closes
    last = boards.state
    end_interval(ticks)
    assert [update["leaderboard"][0]["score"] for update in sock.take("leaderboard_update")] == [last]
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []
    assert ticks.asleep == 0


def test_every_changed_board_is_pushed_to_its_own_room_only(app, connect, player, make_player, boards, ticks):
    daily, weekly = connect(player), connect(make_player())
    daily.emit("join_leaderboard", {"metric": "games_played", "timeframe": "daily"})
    weekly.emit("join_leaderboard", {"metric": "total_winnings", "timeframe": "weekly"})
    daily.take("leaderboard_update"), weekly.take("leaderboard_update")
    settle_event(app)
    end_interval(ticks)
    assert [u["timeframe"] for u in daily.take("leaderboard_update")] == ["daily"]
    assert [u["metric"] for u in weekly.take("leaderboard_update")] == ["total_winnings"]
    sock = daily
    sock.emit("leave_leaderboard", {"metric": "games_played", "timeframe": "daily"})
    sock.take("leaderboard_update")
    settle_event(app)
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []
    assert [u["metric"] for u in weekly.take("leaderboard_update")] == ["total_winnings"]


def test_a_failing_leaderboard_never_undoes_the_round(app, client, connect, player, boards, ticks, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("leaderboard down")

    sock = connect(player)
    sock.emit("join_leaderboard", {"metric": "games_played", "timeframe": "daily"})
    sock.take("leaderboard_update")
    monkeypatch.setattr(boards, "top", broken)
    response = client.post("/spin", json={"bet": 1}, headers=player.headers)
    assert response.status_code == 200
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []
    monkeypatch.undo()
    settle_event(app)  # the window closed despite the failure: pushes resume
    end_interval(ticks)
    assert len(sock.take("leaderboard_update")) == 1


def test_without_a_leaderboard_service_nothing_is_pushed(app, connect, player, boards, ticks):
    app.extensions[leaderboards._SOURCE] = leaderboards.LeaderboardSource()
    app.extensions[leaderboards._SOURCE]._module = None
    sock = connect(player)
    settle_event(app)
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []
    assert sock.events("error") == []


def test_a_stopped_pusher_never_pushes_again(app, connect, player, boards, ticks):
    sock = connect(player)
    sock.emit("join_leaderboard", {"metric": "games_played", "timeframe": "daily"})
    sock.take("leaderboard_update")
    settle_event(app)
    ticks.settle()
    assert ticks.asleep == 9  # one task per board, each waiting for its interval to end
    app.extensions[leaderboards._PUSHER].stop()
    end_interval(ticks)
    assert sock.events("leaderboard_update") == []
    assert ticks.asleep == 0


def test_memory_windows_hand_each_board_to_one_pusher():
    windows = board_push_store.MemoryWindows()
    board = ("games_played", "daily")
    assert windows.open_or_mark([board]) == [board]
    assert windows.open_or_mark([board]) == []  # marked dirty, not owned
    windows.begin(board)
    assert windows.finish(board) is False  # no change since the read: closed
    assert windows.open_or_mark([board]) == [board]
    windows.begin(board)
    windows.open_or_mark([board])  # a change after the read
    assert windows.finish(board) is True  # stays open for another push
    windows.begin(board)
    assert windows.finish(board) is False


@pytest.mark.redis
def test_redis_windows_are_shared_by_every_process(app):
    from imperioApp.extensions import redis_store

    with app.app_context():
        one = board_push_store.RedisWindows(redis_store.client, 0.5)
        two = board_push_store.RedisWindows(redis_store.client, 0.5)
        board = ("games_played", "weekly")
        assert one.open_or_mark([board, ("biggest_win", "daily")]) == [board, ("biggest_win", "daily")]
        assert two.open_or_mark([board]) == []  # another process's change: marked, not owned
        one.begin(board)
        assert one.finish(board) is False  # that change came before the read: pushed, closed
        assert two.open_or_mark([board]) == [board]
        two.begin(board)
        assert one.open_or_mark([board]) == []  # a change after two's read...
        assert two.finish(board) is True  # ...keeps the window open for another push
        two.begin(board)
        assert two.finish(board) is False
