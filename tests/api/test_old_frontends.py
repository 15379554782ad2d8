"""The three old frontends' requests, byte for byte as their sources send them, with game tokens.

Cherry Charm (http://localhost:5173), blackjack (5174) and roulette (5175) are opened as
`<url>/?username=&token=` by /redirect-*; they then call the API cross-origin, so every
request here comes with its Origin and, where a browser sends one, its CORS preflight.
"""

import json
import re
from datetime import timedelta

import pytest
from flask_jwt_extended import decode_token

from imperioApp.services.identity import browser_sessions
from tests.api.helpers import assert_error, money_snapshot
from tests.factories import access_token
from tests.web.forms import bearer, launch, log_out, sign_up

CHERRY_CHARM, BLACKJACK, ROULETTE = "http://localhost:5173", "http://localhost:5174", "http://localhost:5175"
ORIGINS = [CHERRY_CHARM, BLACKJACK, ROULETTE]


@pytest.fixture
def cors_app(app, make_app):
    """The app as production runs it for the frontends: their three origins allowed."""
    return make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], CORS_ORIGINS=ORIGINS)


@pytest.fixture
def browser(app, cors_app):
    """A browser logged in through the pages (the session fixture `app` cleans up after the test)."""
    client = cors_app.test_client()
    sign_up(client, "frontend_fan")
    return client


def game_token(browser, game):
    _, query = launch(browser, game)
    assert query["username"] == "frontend_fan"
    return query["token"]


def user_id_of(app, token):
    with app.app_context():
        return int(decode_token(token)["sub"])


def fetch(client, method, path, origin, headers=None, body=None):
    """One request as a browser's fetch() sends it: the Origin, the client's headers, the exact body text."""
    return client.open(path, method=method, headers={"Origin": origin, **(headers or {})}, data=body)


def preflight(client, path, origin, method, request_headers):
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": request_headers,
        },
    )
    assert 200 <= response.status_code < 300, response.status_code
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
    for header in request_headers.split(","):
        assert header.strip() in allowed or allowed == "*"
    assert method in response.headers.get("Access-Control-Allow-Methods", "")
    return response


def js_json(value):
    """JSON.stringify's text: no spaces."""
    return json.dumps(value, separators=(",", ":"))


# --- Cherry Charm ----------------------------------------------------------------------


def test_cherry_charm_verifies_its_token_fetches_coins_and_spins(browser):
    token = game_token(browser, "imperio")
    username = "frontend_fan"
    # App.tsx: verify the launch token (no Authorization header).
    preflight(browser, "/verify-token", CHERRY_CHARM, "POST", "content-type")
    response = fetch(
        browser,
        "POST",
        "/verify-token",
        CHERRY_CHARM,
        {"Content-Type": "application/json"},
        js_json({"token": token, "username": username}),
    )
    assert response.status_code == 200 and response.get_json()["message"] == "Token is valid"
    assert response.headers["Access-Control-Allow-Origin"] == CHERRY_CHARM
    # store.ts: fetchInitialCoins.
    preflight(browser, f"/getCoins?userId={username}", CHERRY_CHARM, "GET", "authorization")
    response = fetch(browser, "GET", f"/getCoins?userId={username}", CHERRY_CHARM, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["coins"] == 1000
    # SlotMachine.tsx: spinSlotMachine.
    preflight(browser, "/spin", CHERRY_CHARM, "POST", "authorization,content-type")
    response = fetch(
        browser,
        "POST",
        "/spin",
        CHERRY_CHARM,
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        js_json({"userId": username}),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["stopSegments"]) == 3 and all(15 <= s <= 30 for s in body["stopSegments"])
    assert body["totalCoins"] == 1000 - 1 + body["payout"]
    assert response.headers["Access-Control-Allow-Origin"] == CHERRY_CHARM


@pytest.mark.parametrize("user_id", ["frontend_fan", "defaultUserId", "someone_else", 17, None])
def test_spin_ignores_whatever_userid_says(browser, user_id):
    token = game_token(browser, "imperio")
    response = browser.post("/spin", json={"userId": user_id}, headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["bet"] == 1


@pytest.mark.parametrize("body", [{"userId": "x", "extra": 1}, {"user_id": "x"}, {"userid": "x"}])
def test_spin_still_refuses_other_unknown_fields(app, browser, body):
    token = game_token(browser, "imperio")
    before = money_snapshot(app, user_id_of(app, token))
    assert_error(browser.post("/spin", json=body, headers=bearer(token)), 422, "validation_error")
    assert money_snapshot(app, user_id_of(app, token)) == before


# --- /verify-token ---------------------------------------------------------------------


def test_verify_token_accepts_api_access_tokens_and_any_case_of_the_username(browser, player):
    response = browser.post("/verify-token", json={"token": player.tokens["access_token"], "username": player.username.upper()})
    assert response.status_code == 200 and response.get_json() == {"message": "Token is valid"}


@pytest.mark.parametrize("case", ["other_username", "refresh_token", "garbage", "expired", "revoked"])
def test_verify_token_refuses_with_a_top_level_message(app, browser, player, case):
    token = {
        "other_username": player.tokens["access_token"],
        "refresh_token": player.tokens["refresh_token"],
        "garbage": "not.a.jwt",
    }.get(case)
    username = "frontend_fan" if case == "other_username" else player.username
    if case == "expired":
        token = access_token(app, player, expires_delta=timedelta(seconds=-60))
    if case == "revoked":
        browser.post("/logout", headers=player.headers)
        token = player.tokens["access_token"]
    response = browser.post("/verify-token", json={"token": token, "username": username})
    body = assert_error(response, 401)
    assert response.get_json()["message"] == body["message"] and response.get_json()["message"] != "Token is valid"


@pytest.mark.parametrize(
    "body, status",
    [
        ({}, 422),
        ({"token": "x"}, 422),
        ({"username": "x"}, 422),
        ({"token": 5, "username": "x"}, 422),
        ({"token": "x", "username": "y", "more": 1}, 422),
        ({"token": "x" * 5000, "username": "y"}, 422),
        ([], 400),
    ],
)
def test_verify_token_bad_input(client, body, status):
    response = client.post("/verify-token", json=body)
    assert response.status_code in (400, 422) and status in (400, 422)
    assert_error(response, response.status_code)


def test_verify_token_malformed_and_non_json_bodies(client):
    assert_error(client.post("/verify-token", data='{"token": ', content_type="application/json"), 400)
    assert_error(client.post("/verify-token", data="token=x", content_type="text/plain"), 415)


# --- blackjack -------------------------------------------------------------------------


def test_blackjack_client_fetches_coins_deals_and_plays(browser, deal):
    token = game_token(browser, "blackjack")
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    preflight(browser, "/getCoins", BLACKJACK, "GET", "authorization,content-type")
    assert fetch(browser, "GET", "/getCoins", BLACKJACK, headers).get_json()["coins"] == 1000
    deal("10", "9", "7", "5", "8", "10")  # player 10+7, dealer 9+5
    preflight(browser, "/blackjack/start", BLACKJACK, "POST", "authorization,content-type")
    state = fetch(browser, "POST", "/blackjack/start", BLACKJACK, headers, js_json({"wager": 25})).get_json()
    assert not state["message"] and state["player_coins"] == 975 and not state["game_over"]
    assert {"suit", "name", "value"} <= set(state["dealer_hand"][0]) and len(state["dealer_hand"]) == 1
    for field in ("player_hand", "player_second_hand", "split", "can_double_down", "can_split"):
        assert field in state
    state = fetch(
        browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "stand", "game_id": state["id"]})
    ).get_json()
    assert state["game_over"] and state["message"] and state["player_coins"] in (975, 1025)


def test_blackjack_client_actions_without_a_game_id_play_the_newest_open_round(browser, deal):
    # main.js sends {action} alone: the newest open round is the one it just dealt.
    token = game_token(browser, "blackjack")
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    response = fetch(browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "hit"}))
    assert response.status_code == 404 and response.get_json()["message"].startswith("you have no open blackjack round")
    deal("10", "9", "2", "5", "8", "10")  # player 10+2, dealer 9+5
    older = fetch(browser, "POST", "/blackjack/start", BLACKJACK, headers, js_json({"wager": 10})).get_json()
    deal("10", "9", "3", "5", "7", "10")  # player 10+3, dealer 9+5
    newer = fetch(browser, "POST", "/blackjack/start", BLACKJACK, headers, js_json({"wager": 10})).get_json()
    state = fetch(browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "hit"})).get_json()
    assert state["id"] == newer["id"] != older["id"] and len(state["player_hand"]) == 3
    state = fetch(browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "stand"})).get_json()
    assert state["game_over"] and state["message"] and state["id"] == newer["id"]
    state = fetch(browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "stand"})).get_json()
    assert state["game_over"] and state["id"] == older["id"]


def test_blackjack_errors_carry_the_message_that_client_shows(browser):
    token = game_token(browser, "blackjack")
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    response = fetch(browser, "POST", "/blackjack/start", BLACKJACK, headers, js_json({"wager": 5000}))
    assert response.status_code in (409, 422)
    assert response.get_json()["message"] and response.headers["Access-Control-Allow-Origin"] == BLACKJACK
    response = fetch(browser, "POST", "/blackjack/action", BLACKJACK, headers, js_json({"action": "hit", "game_id": 99999}))
    assert response.status_code == 404 and response.get_json()["message"]


# --- roulette --------------------------------------------------------------------------


def roulette_board():
    """Every (numbers, type, odds) place of the roulette client's betting board (app.js buildBettingBoard)."""
    places = []
    for j in range(11):
        places.append((", ".join(str(n + 3 * j) for n in range(1, 7)), "double_street", 5))
    for d in (1, 2, 3):
        for j in range(12):
            if d in (1, 2):
                places.append((f"{(2 - (d - 1)) + 3 * j}, {(3 - (d - 1)) + 3 * j}", "split", 17))
            else:
                places.append((f"{1 + 3 * j}, {2 + 3 * j}, {3 + 3 * j}", "street", 11))
    for d in range(1, 12):
        for j in range(1, 4):
            places.append((f"{(3 + 3 * (d - 1)) - (j - 1)}, {(6 + 3 * (d - 1)) - (j - 1)}", "split", 17))
    for c in (1, 2):
        for i in range(1, 12):
            count = i if c == 1 else i + 11
            if count < 12:
                numbers = [2 + (count - 1) * 3, 3 + (count - 1) * 3, 5 + (count - 1) * 3, 6 + (count - 1) * 3]
            else:
                numbers = [1 + (count - 12) * 3, 2 + (count - 12) * 3, 4 + (count - 12) * 3, 5 + (count - 12) * 3]
            places.append((", ".join(map(str, numbers)), "corner_bet", 8))
    places.append((", ".join(map(str, range(1, 19))), "outside_low", 1))
    places.append((", ".join(map(str, range(19, 37))), "outside_high", 1))
    places.append(("0", "zero", 35))
    places += [(str(n), "inside_whole", 35) for n in range(1, 37)]
    places += [(", ".join(str(n) for n in range(start, 37, 3)), "outside_column", 2) for start in (3, 2, 1)]
    places += [(", ".join(str(n) for n in range(start, start + 12)), "outside_dozen", 2) for start in (1, 13, 25)]
    places.append((", ".join(str(n) for n in range(2, 37, 2)), "outside_oerb", 1))
    places.append(("1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36", "outside_oerb", 1))
    places.append(("2, 4, 6, 8, 10, 11, 13, 15, 17, 20, 22, 24, 26, 28, 29, 31, 33, 35", "outside_oerb", 1))
    places.append((", ".join(str(n) for n in range(1, 37, 2)), "outside_oerb", 1))
    return places


def roulette_spin(browser, token, bets):
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    # app.js pushes {amt, type, odds, numbers} objects and posts {bet}.
    body = js_json({"bet": [{"amt": amt, "type": kind, "odds": odds, "numbers": numbers} for amt, kind, odds, numbers in bets]})
    return fetch(browser, "POST", "/roulette/action", ROULETTE, headers, body)


def test_roulette_client_fetches_coins_and_spins(browser, pocket):
    token = game_token(browser, "roulette")
    preflight(browser, "/roulette/action", ROULETTE, "POST", "authorization,content-type")
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    assert fetch(browser, "GET", "/getCoins", ROULETTE, headers).get_json()["coins"] == 1000
    pocket(3)
    response = roulette_spin(
        browser,
        token,
        [
            (5, "split", 17, "2, 3"),
            (0, "inside_whole", 35, "7"),
            (10, "outside_oerb", 1, "1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36"),
        ],
    )
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["winning_number"], body["total_bet"], body["total_win"], body["new_coins"]) == (3, 15, 90 + 20, 1000 - 15 + 110)


def test_roulette_accepts_every_place_of_that_clients_board_at_once(browser):
    board = roulette_board()
    assert len(board) == 151 and len(set(board)) == 151
    token = game_token(browser, "roulette")
    response = roulette_spin(browser, token, [(1, kind, odds, numbers) for numbers, kind, odds in board])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total_bet"] == 151


def test_roulette_accepts_the_whole_starting_bank_on_the_table(browser):
    token = game_token(browser, "roulette")
    bets = [(100, "inside_whole", 35, str(n)) for n in range(1, 11)]
    response = roulette_spin(browser, token, bets)
    assert response.status_code == 200 and response.get_json()["total_bet"] == 1000


def test_roulette_limits_refuse_with_a_top_level_message(app, browser, monkeypatch):
    token = game_token(browser, "roulette")
    monkeypatch.setitem(app.config, "ROULETTE_MAX_BETS", 2)
    monkeypatch.setitem(browser.application.config, "ROULETTE_MAX_BETS", 2)
    response = roulette_spin(browser, token, [(1, "inside_whole", 35, str(n)) for n in range(1, 4)])
    assert response.status_code == 422 and response.get_json()["message"] == "at most 2 bets per spin"
    monkeypatch.setitem(browser.application.config, "ROULETTE_MAX_TOTAL_BET", 50)
    response = roulette_spin(browser, token, [(51, "inside_whole", 35, "1")])
    assert response.status_code == 422 and re.search(r"50", response.get_json()["message"])
    assert browser.get("/getCoins", headers=bearer(token)).get_json()["coins"] == 1000


# --- where a game token works, and when it stops --------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("PATCH", "/profile"),
        ("GET", "/profile"),
        ("GET", "/wallet"),
        ("GET", "/transactions"),
        ("POST", "/roulette/spin"),
        ("POST", "/fairness/rotate"),
        ("POST", "/logout"),
    ],
)
def test_a_game_token_is_refused_outside_the_game_endpoints(app, browser, method, path):
    token = game_token(browser, "imperio")
    before = money_snapshot(app, user_id_of(app, token))
    response = browser.open(path, method=method, json={"public_stats": True}, headers=bearer(token))
    body = assert_error(response, 403, "token_scope")
    assert "game token" in response.get_json()["message"] and body["message"] == response.get_json()["message"]
    assert money_snapshot(app, user_id_of(app, token)) == before


def test_a_game_token_is_no_refresh_token(browser):
    assert_error(browser.post("/token/refresh", headers=bearer(game_token(browser, "imperio"))), 401, "invalid_token")


def test_a_game_token_cannot_authenticate_a_socket(app, browser):
    from imperioApp.services.core.errors import Unauthorized
    from imperioApp.services.identity import tokens

    token = game_token(browser, "imperio")
    with app.app_context(), pytest.raises(Unauthorized) as refused:
        tokens.identify(token)
    assert refused.value.code == "token_scope"


def test_an_expired_game_token_gets_401_with_a_top_level_message(browser, monkeypatch):
    monkeypatch.setitem(browser.application.config, "GAME_TOKEN_TTL", -30)
    token = game_token(browser, "blackjack")
    response = browser.post("/blackjack/start", json={"wager": 10}, headers=bearer(token))
    assert_error(response, 401, "token_expired")
    assert response.get_json()["message"] == "the token has expired"


def test_a_revoked_game_token_gets_401_with_a_top_level_message(browser):
    token = game_token(browser, "roulette")
    log_out(browser)
    response = roulette_spin(browser, token, [(1, "zero", 35, "0")])
    assert_error(response, 401, "token_revoked")
    assert response.get_json()["message"] == "the token has been revoked"


def test_game_tokens_never_outlive_their_browser_session(app, player):
    with app.app_context():
        from flask_jwt_extended import decode_token

        from imperioApp.services.identity import accounts

        user = accounts.get_user(player.id)
        session = browser_sessions.start(user.id)
        short = browser_sessions.BrowserSession(
            session.id, session.user_id, session.expires_at - app.config["BROWSER_SESSION_TTL"] + 60
        )
        claims = decode_token(browser_sessions.issue_game_token(user, short).value)
    assert claims["exp"] <= short.expires_at


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("POST", "/verify-token", "content-type"),
        ("GET", "/getCoins?userId=frontend_fan", "authorization,content-type"),
        ("POST", "/spin", "authorization,content-type"),
        ("POST", "/blackjack/start", "authorization,content-type"),
        ("POST", "/blackjack/action", "authorization,content-type"),
        ("POST", "/roulette/action", "authorization,content-type"),
    ],
)
def test_every_frontend_origin_passes_every_preflight(cors_app, origin, method, path, headers):
    preflight(cors_app.test_client(), path, origin, method, headers)


def test_other_origins_get_no_cors_headers(cors_app):
    response = cors_app.test_client().options(
        "/spin",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_action_without_game_id_never_plays_another_players_round(browser, player, deal):
    deal("10", "9", "2", "5", "8", "10")
    theirs = browser.post("/blackjack/start", json={"wager": 10}, headers=player.headers).get_json()
    token = game_token(browser, "blackjack")
    response = browser.post("/blackjack/action", json={"action": "stand"}, headers=bearer(token))
    assert_error(response, 404, "round_not_found")
    assert browser.get(f"/games/{theirs['id']}", headers=player.headers).get_json()["status"] == "open"
