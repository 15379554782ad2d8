"""Login sessions: one per login, refresh rotation as one claim, reuse detection, listing and ending them."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from imperioApp.extensions import db
from imperioApp.models import AuthSession
from imperioApp.models.base import utcnow
from tests.api.helpers import assert_error
from tests.concurrency import race


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def login(client, player, address="10.0.0.1", agent="test-browser/1.0"):
    response = client.post(
        "/login",
        json={"username": player.username, "password": player.password},
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def live_sessions(app, user_id):
    with app.app_context():
        rows = (
            db.session.execute(select(AuthSession.id).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None)))
            .scalars()
            .all()
        )
        db.session.remove()
    return rows


def test_each_login_is_a_session_with_its_device(app, client, player):
    tokens = login(client, player, agent="Firefox/140")
    listed = client.get("/sessions", headers=bearer(tokens["access_token"]))
    assert listed.status_code == 200
    assert listed.headers["Cache-Control"] == "no-store"
    rows = listed.get_json()
    assert len(rows) == 2  # the factory's login and this one
    mine = [row for row in rows if row["current"]]
    assert len(mine) == 1 and mine[0]["user_agent"] == "Firefox/140" and mine[0]["client_address"] == "10.0.0.1"
    assert {"id", "created_at", "last_used_at", "expires_at"} <= set(mine[0])


def test_twenty_parallel_refreshes_of_one_token_give_exactly_one_new_pair(app, player):
    def refresh():
        response = app.test_client().post("/token/refresh", headers=player.refresh_headers)
        return response.status_code, response.get_json()

    results = race(app, 20, refresh)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * 19, statuses
    winner = next(body for status, body in results if status == 200)
    assert all(body["error"]["code"] == "token_revoked" for status, body in results if status == 401)
    # One live chain: the winner's refresh token refreshes, nothing else of that session does.
    assert live_sessions(app, player.id) == [player.session_id]
    client = app.test_client()
    assert client.post("/token/refresh", headers=bearer(winner["refresh_token"])).status_code == 200
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 401


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(app, client, player):
    first = client.post("/token/refresh", headers=player.refresh_headers).get_json()
    second = client.post("/token/refresh", headers=bearer(first["refresh_token"])).get_json()
    assert client.get("/wallet", headers=bearer(second["access_token"])).status_code == 200
    # The replay of a token two rotations old: a thief or the owner, one of them holds a stolen chain.
    replay = client.post("/token/refresh", headers=player.refresh_headers)
    assert_error(replay, 401, "token_revoked")
    assert client.post("/token/refresh", headers=bearer(second["refresh_token"])).status_code == 401
    assert client.get("/wallet", headers=bearer(second["access_token"])).status_code == 401
    assert live_sessions(app, player.id) == []


def test_a_replay_after_the_grace_period_ends_the_session(app, client, player):
    fresh = client.post("/token/refresh", headers=player.refresh_headers).get_json()
    # Just after the rotation the old token is only refused: a client retrying a lost answer.
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 401
    assert client.get("/wallet", headers=bearer(fresh["access_token"])).status_code == 200
    with app.app_context():  # the grace period later
        db.session.execute(update(AuthSession).values(rotated_at=utcnow() - timedelta(seconds=60)))
        db.session.commit()
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 401
    assert client.post("/token/refresh", headers=bearer(fresh["refresh_token"])).status_code == 401
    assert client.get("/wallet", headers=bearer(fresh["access_token"])).status_code == 401


def test_ending_one_session_leaves_the_others(app, client, player):
    other = login(client, player)
    response = client.delete(f"/sessions/{player.session_id}", headers=bearer(other["access_token"]))
    assert response.status_code == 204
    assert client.get("/wallet", headers=player.headers).status_code == 401
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 401
    assert client.get("/wallet", headers=bearer(other["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("session_id", "status"), [("nope", 404), ("x" * 22, 404), ("a" * 65, 404), ("..%2F..", 404), ("%00" * 3, 400)]
)
def test_ending_an_unknown_session_is_refused(client, player, session_id, status):
    assert_error(client.delete(f"/sessions/{session_id}", headers=player.headers), status)
    assert client.get("/wallet", headers=player.headers).status_code == 200


def test_a_session_of_another_player_cannot_be_ended(client, player, make_player):
    other = make_player()
    assert_error(client.delete(f"/sessions/{other.session_id}", headers=player.headers), 404, "session_not_found")
    assert client.get("/wallet", headers=other.headers).status_code == 200


def test_logging_out_everywhere_ends_every_session(app, client, player, make_player):
    second = login(client, player)
    bystander = make_player()
    response = client.delete("/sessions", headers=player.headers)
    assert response.status_code == 200 and response.get_json() == {"ended": 2}
    for tokens in (player.tokens, second):
        assert client.get("/wallet", headers=bearer(tokens["access_token"])).status_code == 401
        assert client.post("/token/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401
    assert client.get("/wallet", headers=bystander.headers).status_code == 200


def test_changing_the_password_ends_every_other_session(app, client, player):
    other = login(client, player)
    response = client.post(
        "/password", headers=player.headers, json={"current_password": player.password, "new_password": "a-new-password"}
    )
    assert response.status_code == 204
    assert client.get("/wallet", headers=player.headers).status_code == 200
    assert client.get("/wallet", headers=bearer(other["access_token"])).status_code == 401
    assert client.post("/token/refresh", headers=bearer(other["refresh_token"])).status_code == 401
    old = client.post("/login", json={"username": player.username, "password": player.password})
    assert_error(old, 401, "invalid_credentials")
    assert client.post("/login", json={"username": player.username, "password": "a-new-password"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": "wrong-password", "new_password": "a-new-password"},
        {"current_password": "x", "new_password": "short"},
        {"current_password": 12345678, "new_password": "a-new-password"},
        {"current_password": "x", "new_password": "y" * 129},
    ],
)
def test_bad_password_changes_change_nothing(app, client, player, body):
    other = login(client, player)
    response = client.post("/password", headers=player.headers, json=body)
    assert response.status_code in (401, 422)
    assert_error(response, response.status_code)
    assert client.get("/wallet", headers=bearer(other["access_token"])).status_code == 200
    assert client.post("/login", json={"username": player.username, "password": player.password}).status_code == 200


def test_session_endpoints_need_a_token(client):
    for method, path in (("get", "/sessions"), ("delete", "/sessions"), ("delete", "/sessions/abc"), ("post", "/password")):
        assert_error(getattr(client, method)(path, json={} if method == "post" else None), 401)
