"""Achievements: the seeded catalogue, unlocks during settlement (exactly once), progress, seen."""

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import Achievement, Notification, UserAchievement
from imperioApp.services.core.unit_of_work import atomic
from imperioApp.services.engagement import achievements
from tests.concurrency import race

from .helpers import assert_error

CODES = {
    "first_slots",
    "first_blackjack",
    "first_roulette",
    "rounds_10",
    "rounds_100",
    "rounds_1000",
    "win_streak_3",
    "win_streak_5",
    "natural_blackjack",
    "three_cherries",
    "straight_up_hit",
    "big_win",
    "wagered_1000",
    "wagered_100000",
    "all_three_games",
    "balance_10000",
}


def unlocked_codes(client, player):
    response = client.get("/achievements/user", headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return [item["code"] for item in response.get_json()]


def ids_by_code(client, player):
    return {item["code"]: item["id"] for item in client.get("/achievements", headers=player.headers).get_json()}


def spin(client, player, bet=1):
    response = client.post("/spin", json={"bet": bet}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_catalogue_has_sixteen_seeded_achievements(app, client, player):
    body = client.get("/achievements", headers=player.headers).get_json()
    assert {item["code"] for item in body} == CODES and len(body) == 16
    for item in body:
        assert set(item) == {"id", "code", "name", "description", "category", "threshold", "icon"}
        assert item["threshold"] >= 1 and item["name"] and item["icon"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Achievement)).scalar_one() == 16


def test_first_round_unlocks_once_with_a_notification_and_events(app, client, player, published):
    spin(client, player)
    spin(client, player)
    assert unlocked_codes(client, player) == ["first_slots"]
    unlocks = [payload for name, payload in published if name == "achievement_unlocked"]
    assert len(unlocks) == 1
    assert unlocks[0]["user_id"] == player.id and unlocks[0]["achievement"]["code"] == "first_slots"
    notes = [payload for name, payload in published if name == "notification"]
    assert len(notes) == 1 and notes[0]["user_id"] == player.id
    assert notes[0]["notification"]["type"] == "achievement"
    assert notes[0]["notification"]["payload"]["achievement"]["code"] == "first_slots"
    listed = client.get("/notifications", headers=player.headers).get_json()["items"]
    assert [note["id"] for note in listed] == [notes[0]["notification"]["id"]]


def test_signature_outcomes_big_win_and_variety(client, make_player, reels, pocket, deal):
    player = make_player(balance=5000)
    reels("three_cherries")
    spin(client, player, bet=100)  # 25,000 coins: a big win and a balance over 10,000
    pocket(17)
    client.post("/roulette/spin", json={"bets": [{"type": "straight", "numbers": [17], "amount": 1}]}, headers=player.headers)
    deal("Ace", "9", "King", "7")
    client.post("/blackjack/start", json={"wager": 10}, headers=player.headers)
    assert set(unlocked_codes(client, player)) == {
        "first_slots",
        "three_cherries",
        "big_win",
        "balance_10000",
        "first_roulette",
        "straight_up_hit",
        "first_blackjack",
        "natural_blackjack",
        "all_three_games",
        "win_streak_3",
    }


def test_a_lost_straight_up_bet_or_other_bet_kinds_are_not_a_straight_up_hit(client, player, pocket):
    pocket(17)
    client.post(
        "/roulette/spin",
        json={"bets": [{"type": "straight", "numbers": [5], "amount": 1}, {"type": "black", "amount": 1}]},
        headers=player.headers,
    )
    assert unlocked_codes(client, player) == ["first_roulette"]


def test_streaks_rounds_and_wagering_milestones(client, make_player, reels):
    player = make_player(balance=5000)
    reels("three_lemons")  # pays 2x: every round a win
    for _ in range(5):
        spin(client, player)
    assert {"win_streak_3", "win_streak_5"} <= set(unlocked_codes(client, player))
    reels(None)
    for _ in range(4):
        spin(client, player)
    assert "rounds_10" not in unlocked_codes(client, player)
    spin(client, player, bet=100)
    codes = unlocked_codes(client, player)
    assert "rounds_10" in codes and "wagered_1000" not in codes
    for _ in range(9):
        spin(client, player, bet=100)
    codes = unlocked_codes(client, player)
    assert "wagered_1000" in codes and len(codes) == len(set(codes))


def test_progress_counts_towards_each_threshold(client, make_player, reels):
    player = make_player(balance=2000)
    reels(None)
    for _ in range(3):
        spin(client, player, bet=10)
    progress = {item["code"]: item for item in client.get("/achievements/progress", headers=player.headers).get_json()}
    assert set(progress) == CODES
    assert progress["rounds_10"]["current"] == 3 and not progress["rounds_10"]["unlocked"]
    assert progress["wagered_1000"]["current"] == 30
    assert progress["first_slots"] == {**progress["first_slots"], "current": 1, "unlocked": True}
    assert progress["first_roulette"]["current"] == 0
    assert progress["balance_10000"]["current"] == 1970
    assert progress["rounds_1000"]["threshold"] == 1000


def test_progress_of_a_new_player(client, player):
    progress = client.get("/achievements/progress", headers=player.headers).get_json()
    assert all(not item["unlocked"] for item in progress)
    assert {item["code"]: item["current"] for item in progress}["balance_10000"] == 1000


def test_mark_seen(client, player):
    spin(client, player)
    ids = ids_by_code(client, player)
    [item] = client.get("/achievements/user", headers=player.headers).get_json()
    assert item["seen"] is False and item["unlocked_at"]
    response = client.post(f"/achievements/{ids['first_slots']}/seen", headers=player.headers)
    assert response.status_code == 200 and response.get_json()["seen"] is True
    again = client.post(f"/achievements/{ids['first_slots']}/seen", headers=player.headers)
    assert again.status_code == 200 and again.get_json() == response.get_json()
    assert client.get("/achievements/user", headers=player.headers).get_json()[0]["seen"] is True


def test_nobody_marks_what_they_have_not_unlocked(client, player, make_player):
    spin(client, player)
    intruder = make_player()
    first_slots = ids_by_code(client, player)["first_slots"]
    assert_error(client.post(f"/achievements/{first_slots}/seen", headers=intruder.headers), 404, "achievement_not_found")
    assert client.get("/achievements/user", headers=intruder.headers).get_json() == []
    assert client.get("/achievements/user", headers=player.headers).get_json()[0]["seen"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/achievements/0/seen",
        "/achievements/-1/seen",
        "/achievements/abc/seen",
        "/achievements/99/seen",
        f"/achievements/{2**63}/seen",
        "/achievements/1.0/seen",
    ],
)
def test_bad_achievement_ids_are_404(client, player, path):
    assert_error(client.post(path, headers=player.headers), 404)


def test_seen_is_post_only(client, player):
    assert_error(client.get("/achievements/1/seen", headers=player.headers), 405)


def test_two_racing_first_rounds_unlock_once(app, make_player, reels):
    """Real threads, each its own request and connection, race the player's first spin."""
    player = make_player()
    reels(None)  # losing spins: first_slots is the only achievement in reach

    def send():
        response = app.test_client().post("/spin", json={"bet": 1}, headers=player.headers)
        return response.status_code, response.get_json().get("error")

    statuses = race(app, 8, send)
    assert statuses == [(200, None)] * 8, statuses
    with app.app_context():
        unlocks = db.session.execute(
            select(func.count()).select_from(UserAchievement).where(UserAchievement.user_id == player.id)
        ).scalar_one()
        notes = db.session.execute(
            select(func.count()).select_from(Notification).where(Notification.user_id == player.id)
        ).scalar_one()
        db.session.remove()
    assert unlocks == 1 and notes == 1


def test_racing_unlocks_of_the_same_achievement_insert_once(app, make_player):
    """Below the wallet lock: concurrent transactions that all see it due; only one reports it new."""
    player = make_player()

    def unlock():
        with atomic():
            return [item["code"] for item in achievements.unlock_due(player.id, {"games_played:slots": 1}, 0)]

    results = race(app, 10, unlock)
    assert sorted(map(str, results)) == sorted(["['first_slots']"] + ["[]"] * 9), results
