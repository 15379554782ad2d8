"""The browser pages over the test client: sign-up, login, logout, dashboard, game launch, CSRF."""

import time

import pytest

from imperioApp.services.identity import throttle
from tests.api.helpers import assert_error, assert_ledger_holds
from tests.web.forms import PASSWORD, bearer, csrf_of, launch, log_in, log_out, sign_up


@pytest.fixture(autouse=True)
def _fresh_page_limits(app):
    yield
    with app.app_context():
        throttle.reset()


def test_pages_render_with_their_own_strict_csp(client):
    for path in ("/signup", "/login"):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "script-src" not in csp
        assert "form-action 'self' http://localhost:5173 http://localhost:5174 http://localhost:5175;" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script" not in response.get_data(as_text=True)
    assert client.get("/static/pages/site.css").status_code == 200


def test_sign_up_opens_a_session_with_an_httponly_samesite_cookie(client):
    response = sign_up(client, "newcomer")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("imperio_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/dashboard").get_data(as_text=True)
    assert "newcomer" in page and 'id="balance">1,000<' in page
    for game in ("imperio", "blackjack", "roulette"):
        assert f'href="/redirect-{game}"' in page


def test_login_by_username_or_email_then_logout(client):
    sign_up(client, "returning")
    log_out(client)
    assert client.get("/dashboard").status_code == 302
    for login in ("returning", "RETURNING@example.com"):
        response = log_in(client, login)
        assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
        assert client.get("/dashboard").status_code == 200
        assert log_out(client).headers["Location"] == "/login"
    assert "You have logged out" in client.get("/login").get_data(as_text=True)


def test_login_follows_next_only_to_our_own_pages(client):
    sign_up(client, "nexter")
    log_out(client)
    assert client.get("/redirect-roulette").headers["Location"] == "/login?next=/redirect-roulette"
    assert log_in(client, "nexter", next="/redirect-roulette").headers["Location"] == "/redirect-roulette"
    log_out(client)
    assert log_in(client, "nexter", next="https://evil.example/").headers["Location"] == "/dashboard"


def test_a_wrong_password_shows_a_readable_message(client):
    sign_up(client, "forgetful")
    log_out(client)
    response = log_in(client, "forgetful", "not-the-password")
    assert response.status_code == 401
    assert "Wrong username, email or password." in response.get_data(as_text=True)
    assert 'value="forgetful"' in response.get_data(as_text=True)


def test_a_locked_account_says_so_and_for_how_long(client):
    sign_up(client, "hammered")
    log_out(client)
    for _ in range(5):
        log_in(client, "hammered", "wrong-password")
    response = log_in(client, "hammered")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "this account is locked. Try again in 15 minutes." in response.get_data(as_text=True)


def test_page_rate_limits_use_the_configured_limits(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "2 per minute")
    log_in(client, "nobody", "x" * 8)
    log_in(client, "nobody", "x" * 8)
    response = log_in(client, "nobody", "x" * 8)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
    assert "Too many attempts from your address. Try again in" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "1 per hour")
    sign_up(client, "first_one")
    log_out(client)
    response = sign_up(client, "second_one")
    assert response.status_code == 429 and "Try again in 60 minutes." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "fields, status, text",
    [
        ({"username": "no spaces allowed"}, 422, "3-32 letters, digits or underscores"),
        ({"email": "not-an-email"}, 422, "Not a valid email address."),
        ({"password": "short"}, 422, "Length must be between 8 and 128."),
        ({"username": ""}, 422, "Please correct the highlighted fields."),
    ],
)
def test_sign_up_form_errors_are_shown_and_nothing_is_created(client, fields, status, text):
    token = csrf_of(client.get("/signup"))
    data = {"csrf_token": token, "username": "formfan", "email": "formfan@example.com", "password": PASSWORD, **fields}
    response = client.post("/signup", data=data)
    assert response.status_code == status and text in response.get_data(as_text=True)
    assert log_in(client, "formfan").status_code == 401


def test_a_taken_username_is_refused_readably(client):
    sign_up(client, "taken_name")
    log_out(client)
    response = sign_up(client, "TAKEN_name", email="other@example.com")
    assert response.status_code == 409 and "That username is already registered." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path, data",
    [
        ("/signup", {"username": "csrfless", "email": "csrfless@example.com", "password": PASSWORD}),
        ("/login", {"login": "csrf_victim", "password": PASSWORD}),
        ("/logout", {"confirm": "yes"}),
    ],
)
@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_form_posts_without_the_right_csrf_token_are_refused(client, path, data, csrf):
    sign_up(client, "csrf_victim")
    if path == "/login":
        log_out(client)
    if csrf is not None:
        data = {**data, "csrf_token": csrf}
    response = client.post(path, data=data)
    assert response.status_code == 403
    assert "did not come from this site" in response.get_data(as_text=True)
    if path == "/logout":
        assert client.get("/dashboard").status_code == 200  # still logged in
    if path == "/login":
        assert client.get("/dashboard").status_code == 302


def test_another_browsers_csrf_token_is_refused(app, client):
    other = app.test_client()
    foreign = csrf_of(other.get("/login"))
    sign_up(client, "two_browsers")
    response = client.post("/logout", data={"csrf_token": foreign})
    assert response.status_code == 403 and client.get("/dashboard").status_code == 200


def test_the_json_api_keeps_its_paths_and_needs_no_cookie_or_csrf(client, player):
    sign_up(client, "api_and_pages")
    response = client.post("/login", json={"username": player.username, "password": player.password})
    assert response.status_code == 200 and "access_token" in response.get_json()
    assert_error(client.post("/login", data="x", content_type="text/plain"), 415)
    # A browser session is not an API credential.
    assert_error(client.get("/profile"), 401, "authorization_required")


def test_launch_links_redirect_to_each_frontend_with_a_game_token(app, client):
    sign_up(client, "launcher")
    expected = {"imperio": "http://localhost:5173", "blackjack": "http://localhost:5174", "roulette": "http://localhost:5175"}
    for game, origin in expected.items():
        url, query = launch(client, game)
        assert f"{url.scheme}://{url.netloc}" == origin and url.path == "/"
        assert query["username"] == "launcher"
        assert client.get("/getCoins?userId=launcher", headers=bearer(query["token"])).get_json() == {"coins": 1000}


def test_launch_urls_come_from_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ROULETTE_URL", "https://roulette.example.com/")
    sign_up(client, "configured")
    url, _ = launch(client, "roulette")
    assert (url.scheme, url.netloc, url.path) == ("https", "roulette.example.com", "/")


def test_a_game_token_lasts_the_configured_play_session(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "GAME_TOKEN_TTL", 3600)
    sign_up(client, "long_player")
    _, query = launch(client, "imperio")
    with app.app_context():
        from flask_jwt_extended import decode_token

        claims = decode_token(query["token"])
    assert claims["scope"] == "game" and abs(claims["exp"] - time.time() - 3600) < 30


def test_launches_in_one_browser_session_share_a_game_token_until_it_runs_low(app, client, monkeypatch):
    sign_up(client, "relauncher")
    tokens = {launch(client, game)[1]["token"] for game in ("imperio", "blackjack", "roulette")}
    assert len(tokens) == 1
    log_out(client)
    log_in(client, "relauncher")
    assert launch(client, "imperio")[1]["token"] not in tokens
    monkeypatch.setitem(app.config, "GAME_TOKEN_TTL", 20 * 60)  # under the half hour a reused token must have left
    log_out(client)
    log_in(client, "relauncher")
    assert launch(client, "imperio")[1]["token"] != launch(client, "imperio")[1]["token"]


def test_logout_revokes_every_game_token_of_that_browser_session(app, client):
    sign_up(client, "quitter")
    tokens = [launch(client, game)[1]["token"] for game in ("imperio", "blackjack", "roulette")]
    other_browser = app.test_client()
    log_in(other_browser, "quitter")
    survivor = launch(other_browser, "imperio")[1]["token"]
    log_out(client)
    for token in tokens:
        body = assert_error(client.get("/getCoins", headers=bearer(token)), 401, "token_revoked")
        assert body["message"] == "the token has been revoked"
        assert client.post("/verify-token", json={"token": token, "username": "quitter"}).status_code == 401
    # The other browser's session, and its game token, are untouched.
    assert other_browser.get("/getCoins", headers=bearer(survivor)).status_code == 200


def test_a_replayed_cookie_stops_working_after_logout(app, client):
    sign_up(client, "cookie_thief_victim")
    cookie = client.get_cookie("imperio_session").value
    log_out(client)
    thief = app.test_client()
    thief.set_cookie("imperio_session", cookie)
    assert thief.get("/dashboard").status_code == 302
    assert thief.get("/redirect-imperio").headers["Location"].startswith("/login")


def test_development_limits_are_loose_and_production_keeps_strict_ones(monkeypatch):
    import importlib

    import config

    for name in ("RATELIMIT_LOGIN", "RATELIMIT_SIGNUP", "ACCESS_TOKEN_TTL"):
        monkeypatch.delenv(name, raising=False)
    fresh = importlib.reload(config)
    try:
        assert (fresh.ProductionConfig.RATELIMIT_LOGIN, fresh.ProductionConfig.RATELIMIT_SIGNUP) == (
            "10 per minute",
            "5 per hour",
        )
        assert (fresh.DevelopmentConfig.RATELIMIT_LOGIN, fresh.DevelopmentConfig.RATELIMIT_SIGNUP) == (
            "60 per minute",
            "100 per hour",
        )
        monkeypatch.setenv("ACCESS_TOKEN_TTL", "3600")
        assert importlib.reload(config).Config.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 3600
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_the_api_login_reports_the_configured_access_token_lifetime(app, make_app, player):
    from datetime import timedelta

    short = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=120)
    )
    response = short.test_client().post("/login", json={"username": player.username, "password": player.password})
    assert response.get_json()["expires_in"] == 120


def test_unknown_launch_links_are_404(client):
    sign_up(client, "curious")
    for path in ("/redirect-poker", "/redirect-", "/redirect-imperio/extra"):
        assert_error(client.get(path), 404)


def test_api_answers_set_no_cookie_and_a_forged_cookie_opens_nothing(app, client, player):
    response = client.post("/spin", json={"bet": 1}, headers=player.headers)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    forger = app.test_client()
    forger.set_cookie("imperio_session", "eyJicm93c2VyX3Nlc3Npb24iOnsidXNlcl9pZCI6MX19.Z0aAaA.forged-signature")
    assert forger.get("/dashboard").status_code == 302
    assert_ledger_holds(app)
