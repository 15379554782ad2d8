"""Profiles: your own with statistics, achievements, ranks and unread count; public views opt-in."""

import pytest

from .helpers import assert_error


def test_own_profile_brings_everything_together(client, player, reels):
    reels("three_lemons")
    client.post("/spin", json={"bet": 4}, headers=player.headers)
    body = client.get("/profile", headers=player.headers).get_json()
    assert body["coins"] == 1004 and body["email"] == player.email and body["public_stats"] is False
    assert body["statistics"]["overall"]["games_played"] == 1 and body["statistics"]["games"]["slots"]["net"] == 4
    assert body["achievements"] == {"unlocked": 1, "total": 16}
    assert body["unread_notifications"] == 1
    assert len(body["ranks"]) == 9 and all(rank["rank"] == 1 for rank in body["ranks"])
    assert set(body["ranks"][0]) == {"metric", "timeframe", "period", "rank", "score"}


def test_public_profile_shows_statistics_only_after_opting_in(client, player, make_player):
    viewer = make_player()
    client.post("/spin", json={"bet": 1}, headers=player.headers)
    hidden = client.get(f"/profile/{player.username}", headers=viewer.headers).get_json()
    assert hidden["statistics"] is None and hidden["achievements"]["unlocked"] == 1
    response = client.patch("/profile", json={"public_stats": True}, headers=player.headers)
    assert response.status_code == 200 and response.get_json()["public_stats"] is True
    shown = client.get(f"/profile/{player.username.upper()}", headers=viewer.headers).get_json()
    assert shown["public_stats"] is True and shown["statistics"]["overall"]["games_played"] == 1
    for private in ("email", "coins", "balance", "id", "ranks", "unread_notifications", "role"):
        assert private not in shown
    client.patch("/profile", json={"public_stats": False}, headers=player.headers)
    assert client.get(f"/profile/{player.username}", headers=viewer.headers).get_json()["statistics"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"public_stats": 1},
        {"public_stats": "true"},
        {"public_stats": None},
        {"public_stats": []},
        {"public_stats": True, "email": "x@example.com"},
        {"balance": 10**9},
        [True],
    ],
)
def test_bad_profile_updates_are_422_and_change_nothing(client, player, body):
    assert_error(client.patch("/profile", json=body, headers=player.headers), 422)
    assert client.get("/profile", headers=player.headers).get_json()["public_stats"] is False


def test_malformed_json_is_400(client, player):
    response = client.patch("/profile", data="{public_stats: true", content_type="application/json", headers=player.headers)
    assert_error(response, 400)


def test_profiles_need_a_token(client, player):
    assert_error(client.get("/profile"), 401)
    assert_error(client.patch("/profile", json={"public_stats": True}), 401)
    assert_error(client.get(f"/profile/{player.username}"), 401)
