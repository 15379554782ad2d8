"""Notifications: written by settlement, listed newest first, read one or all, own only."""

import pytest
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import Notification
from imperioApp.services.engagement import notifications

from .helpers import assert_error


def page(client, player, query=""):
    response = client.get(f"/notifications{query}", headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def notify(app, player, count):
    """Give the player `count` system notifications; return their ids, oldest first."""
    with app.app_context():
        created = notifications.create(player.id, [("system", {"message": f"note {n}"}) for n in range(count)])
        db.session.commit()
        db.session.remove()
    return [note["id"] for note in created]


def test_a_big_win_notifies_the_winner(app, client, make_player, reels, published):
    player = make_player(balance=500)
    reels("three_cherries")
    round_id = client.post("/spin", json={"bet": 100}, headers=player.headers).get_json()["round_id"]
    items = page(client, player)["items"]
    big = [note for note in items if note["type"] == "big_win"]
    assert len(big) == 1 and big[0]["read"] is False and big[0]["read_at"] is None
    assert big[0]["payload"] == {"round_id": round_id, "game_type": "slots", "amount": 24_900}
    events = [payload for name, payload in published if name == "notification"]
    assert {event["notification"]["id"] for event in events} == {note["id"] for note in items}
    assert all(event["user_id"] == player.id for event in events)


def test_a_refused_round_notifies_nobody(client, make_player, reels, published):
    player = make_player(balance=5)
    reels("three_cherries")
    assert_error(client.post("/spin", json={"bet": 10}, headers=player.headers), 409, "insufficient_funds")
    assert page(client, player)["items"] == [] and published == []


def test_pages_newest_first_and_unread_filter(app, client, player):
    ids = notify(app, player, 5)
    first = page(client, player, "?limit=2")
    assert [note["id"] for note in first["items"]] == ids[:-3:-1] and first["next_cursor"] == ids[3]
    rest = page(client, player, f"?limit=2&cursor={first['next_cursor']}")
    last = page(client, player, f"?limit=2&cursor={rest['next_cursor']}")
    assert [note["id"] for note in rest["items"] + last["items"]] == ids[2::-1] and last["next_cursor"] is None
    assert client.post(f"/notifications/{ids[1]}/read", headers=player.headers).get_json()["read"] is True
    unread = page(client, player, "?unread=true")["items"]
    assert [note["id"] for note in unread] == [ids[4], ids[3], ids[2], ids[0]]
    assert len(page(client, player, "?unread=false")["items"]) == 5


def test_mark_read_keeps_the_first_time(app, client, player):
    [note_id] = notify(app, player, 1)
    first = client.post(f"/notifications/{note_id}/read", headers=player.headers).get_json()
    again = client.post(f"/notifications/{note_id}/read", headers=player.headers).get_json()
    assert first["read_at"] and again == first


def test_read_all_and_the_unread_count(app, client, player):
    notify(app, player, 3)
    assert client.get("/profile", headers=player.headers).get_json()["unread_notifications"] == 3
    assert client.post("/notifications/read-all", headers=player.headers).get_json() == {"updated": 3}
    assert client.post("/notifications/read-all", headers=player.headers).get_json() == {"updated": 0}
    assert client.get("/profile", headers=player.headers).get_json()["unread_notifications"] == 0
    assert page(client, player, "?unread=true")["items"] == []


def test_nobody_reads_or_marks_anothers_notifications(app, client, player, make_player):
    intruder = make_player()
    ids = notify(app, player, 2)
    for note_id in ids:
        assert_error(client.post(f"/notifications/{note_id}/read", headers=intruder.headers), 404, "notification_not_found")
    assert client.post("/notifications/read-all", headers=intruder.headers).get_json() == {"updated": 0}
    assert page(client, intruder)["items"] == []
    assert page(client, intruder, f"?cursor={ids[1]}")["items"] == []
    with app.app_context():
        assert db.session.execute(select(Notification.read_at).where(Notification.id.in_(ids))).scalars().all() == [None, None]


@pytest.mark.parametrize(
    "path",
    [
        "/notifications/0/read",
        "/notifications/-3/read",
        "/notifications/x/read",
        f"/notifications/{2**63}/read",
        "/notifications/424242/read",
    ],
)
def test_bad_notification_ids_are_404(client, player, path):
    assert_error(client.post(path, headers=player.headers), 404)


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?limit=101",
        "?limit=1.5",
        "?cursor=0",
        "?cursor=-1",
        "?cursor=z",
        f"?cursor={2**64}",
        "?unread=maybe",
        "?unread=2",
    ],
)
def test_bad_queries_are_422(client, player, query):
    assert_error(client.get(f"/notifications{query}", headers=player.headers), 422)


def test_notifications_need_a_token(client):
    assert_error(client.get("/notifications"), 401)
    assert_error(client.post("/notifications/read-all"), 401)
    assert_error(client.post("/notifications/1/read"), 401)


def test_unknown_notification_types_are_refused(app, player):
    with app.app_context(), pytest.raises(ValueError):
        notifications.create(player.id, [("spam", {})])
