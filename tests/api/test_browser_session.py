"""A browser's login kept in an HttpOnly, SameSite=Strict refresh cookie, with a CSRF header."""

import pytest

from .helpers import assert_error

PASSWORD = "correct-horse-battery"


def cookie(client, name, path):
    found = client.get_cookie(name, path=path)
    return found.value if found else None


def log_in(client, player):
    response = client.post("/session/login", json={"username": player.username, "password": player.password})
    assert response.status_code == 200, response.text
    return response


def refresh(client, csrf=None):
    csrf = cookie(client, "imperio_csrf", "/") if csrf is None else csrf
    return client.post("/session/refresh", headers={"X-CSRF-Token": csrf})


def test_login_sets_an_httponly_strict_cookie_and_answers_no_refresh_token(client, player):
    response = log_in(client, player)
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    headers = response.headers.getlist("Set-Cookie")
    refresh_header = next(h for h in headers if h.startswith("imperio_refresh="))
    assert "HttpOnly" in refresh_header and "SameSite=Strict" in refresh_header and "Path=/session" in refresh_header
    csrf_header = next(h for h in headers if h.startswith("imperio_csrf="))
    assert "HttpOnly" not in csrf_header and "SameSite=Strict" in csrf_header
    assert client.get("/wallet", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_refresh_rotates_the_cookie_and_needs_the_csrf_header(client, player):
    log_in(client, player)
    first = cookie(client, "imperio_refresh", "/session")
    assert_error(refresh(client, csrf=""), 403, "csrf_failed")
    assert_error(refresh(client, csrf="0" * 64), 403, "csrf_failed")
    assert_error(refresh(client, csrf="x" * 129), 403, "csrf_failed")
    assert cookie(client, "imperio_refresh", "/session") == first  # refusals change nothing
    fresh = refresh(client)
    assert fresh.status_code == 200 and set(fresh.get_json()) == {"access_token", "token_type", "expires_in"}
    assert cookie(client, "imperio_refresh", "/session") not in (None, first)
    token = fresh.get_json()["access_token"]
    assert client.get("/wallet", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_another_players_csrf_value_does_not_fit(app, client, player, make_player):
    other_client = app.test_client()
    log_in(other_client, make_player())
    theirs = cookie(other_client, "imperio_csrf", "/")
    log_in(client, player)
    assert_error(refresh(client, csrf=theirs), 403, "csrf_failed")


def test_no_cookie_or_a_bad_one_is_a_clear_401(client, player):
    assert_error(client.post("/session/refresh", headers={"X-CSRF-Token": "x"}), 401, "authorization_required")
    client.set_cookie("imperio_refresh", "not-a-token", path="/session")
    assert_error(client.post("/session/refresh", headers={"X-CSRF-Token": "x"}), 401, "invalid_token")
    # An access token is no refresh token.
    client.set_cookie("imperio_refresh", player.tokens["access_token"], path="/session")
    assert_error(client.post("/session/refresh", headers={"X-CSRF-Token": "x"}), 401, "invalid_token")


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "x"}, {"username": 5, "password": PASSWORD}, {"username": "a", "email": "b", "password": "c"}],
)
def test_bad_logins_are_refused_without_cookies(client, player, body):
    response = client.post("/session/login", json=body)
    assert_error(response, 422)
    assert not response.headers.getlist("Set-Cookie")
    wrong = client.post("/session/login", json={"username": player.username, "password": "wrong-password"})
    assert_error(wrong, 401, "invalid_credentials")
    malformed = client.post("/session/login", data="{bad", headers={"Content-Type": "application/json"})
    assert_error(malformed, 400)


def test_logout_ends_the_session_and_forgets_the_cookies(client, player):
    token = log_in(client, player).get_json()["access_token"]
    response = client.post("/session/logout", headers={"X-CSRF-Token": cookie(client, "imperio_csrf", "/")})
    assert response.status_code == 204
    assert cookie(client, "imperio_refresh", "/session") is None and cookie(client, "imperio_csrf", "/") is None
    assert_error(client.get("/wallet", headers={"Authorization": f"Bearer {token}"}), 401, "token_revoked")
    # Without a session it still answers 204 (nothing to end).
    assert client.post("/session/logout").status_code == 204


def test_logout_without_the_csrf_header_forgets_cookies_but_ends_nothing(app, client, player):
    token = log_in(client, player).get_json()["access_token"]
    refresh_cookie = cookie(client, "imperio_refresh", "/session")
    assert client.post("/session/logout").status_code == 204
    assert client.get("/wallet", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    other = app.test_client()
    other.set_cookie("imperio_refresh", refresh_cookie, path="/session")
    assert other.post("/session/logout", headers={"X-CSRF-Token": "forged"}).status_code == 204
    assert client.get("/wallet", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_time_out_ends_the_session_and_refresh_says_why(client, player):
    token = log_in(client, player).get_json()["access_token"]
    taken = client.post("/protection/timeout", json={"hours": 24}, headers={"Authorization": f"Bearer {token}"})
    assert taken.status_code == 201
    response = refresh(client)
    error = assert_error(response, 401, "token_revoked")
    assert error["details"] == {"reason": "timeout"}
    assert cookie(client, "imperio_refresh", "/session") is None


def test_logging_out_everywhere_ends_the_browser_session(client, player):
    token = log_in(client, player).get_json()["access_token"]
    ended = client.delete("/sessions", headers={"Authorization": f"Bearer {token}"})
    assert ended.status_code == 200 and ended.get_json()["ended"] >= 2
    assert assert_error(refresh(client), 401, "token_revoked")["details"] == {"reason": "logout_everywhere"}
