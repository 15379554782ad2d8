"""Inputs that once answered 500: each is a 4xx in the error shape now, and writes nothing."""

import jwt as pyjwt
import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import AuthSession, LedgerEntry, User
from tests.api.helpers import assert_error, assert_ledger_holds

DEEP = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
HUGE_INTEGER = "9" * 5000


def written(app):
    with app.app_context():
        counts = tuple(
            db.session.execute(select(func.count()).select_from(model)).scalar_one() for model in (User, LedgerEntry, AuthSession)
        )
        db.session.remove()
    return counts


def post_raw(client, path, body, headers=None):
    return client.post(path, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_nul_in_the_login_name_is_refused(app, client, player, field):
    before = written(app)
    response = client.post("/login", json={field: "play\x00er", "password": "whatever"})
    assert_error(response, 400, "invalid_characters")
    assert written(app) == before


def test_a_nul_in_a_signup_field_is_refused(app, client):
    response = client.post("/signup", json={"username": "nul_user", "email": "a@example.com", "password": "pass\x00word!"})
    assert_error(response, 400, "invalid_characters")
    assert written(app) == (0, 0, 0)


@pytest.mark.parametrize("path", ["/login", "/signup", "/spin", "/fairness/verify", "/roulette/spin", "/blackjack/start"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_is_refused_before_parsing(app, client, player, path, body):
    before = written(app)
    assert_error(post_raw(client, path, body, player.headers), 400, "json_too_deep")
    assert written(app) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/fairness/verify", f'{{"game": "slots", "server_seed": "{"a" * 64}", "client_seed": "c", "nonce": {HUGE_INTEGER}}}'),
        ("/spin", f'{{"bet": {HUGE_INTEGER}}}'),
        ("/spin", f'{{"bet": -{HUGE_INTEGER}}}'),
    ],
)
def test_integers_beyond_any_limit_are_refused_before_parsing(app, client, player, path, body):
    before = written(app)
    assert_error(post_raw(client, path, body, player.headers), 400, "number_too_large")
    assert written(app) == before


@pytest.mark.parametrize("body", [b'{"bet": NaN}', b'{"bet": Infinity}', b'{"bet": "\xff\xfe"}', b'{"bet": 1'])
def test_bodies_that_are_not_json_are_refused(client, player, body):
    assert_error(post_raw(client, "/spin", body, player.headers), 400, "invalid_json")


@pytest.mark.parametrize(
    "path", ["/profile/x%00", "/transactions?type=bet%00", "/leaderboard?metric=%00", "/games/history?x%00=1"]
)
def test_a_nul_in_the_url_is_refused(client, player, path):
    assert_error(client.get(path, headers=player.headers), 400, "invalid_characters")


@pytest.mark.parametrize(
    "query",
    ["from=0001-01-01T00:00:00%2B14:00", "to=9999-12-31T23:59:59-14:00", "from=2026-01-02T00:00:00&to=2026-01-01T00:00:00"],
)
def test_extreme_or_reversed_dates_are_refused(client, player, query):
    response = client.get(f"/transactions?{query}", headers=player.headers)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


@pytest.mark.parametrize("subject", ["abc", "", "1.5", "-1", "9" * 40, "１２"])
def test_a_signed_token_naming_no_user_is_401(app, client, player, subject):
    claims = pyjwt.decode(player.tokens["access_token"], options={"verify_signature": False})
    forged = pyjwt.encode({**claims, "sub": subject}, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_error(client.get("/wallet", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")


@pytest.mark.parametrize("sid", [None, 5, "", "../../etc", "x" * 200])
def test_a_signed_token_naming_no_session_is_401(app, client, player, sid):
    claims = pyjwt.decode(player.tokens["access_token"], options={"verify_signature": False})
    claims.pop("sid")
    if sid is not None:
        claims["sid"] = sid
    forged = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_error(client.get("/wallet", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")


@pytest.mark.parametrize("header", ["X-Padding", "Authorization", "Content-Type"])
def test_an_oversized_header_field_is_a_json_431_and_writes_nothing(app, client, header):
    before = written(app)
    value = "a" * 8191
    if header == "Content-Type":
        response = client.post("/signup", data="{}", content_type="application/json; x=" + value)
    else:
        response = client.post("/signup", json={}, headers={header: value})
    assert_error(response, 431)
    assert written(app) == before


def test_a_header_field_at_the_limit_passes_the_guard(client):
    response = client.post("/signup", json={}, headers={"X-Padding": "a" * 8190})
    assert response.status_code == 422  # the body's validation answers, not the guard


def test_a_body_is_parsed_once_and_the_arguments_come_from_the_guards_parse(app, client, player, monkeypatch):
    """The guard's parse (with its integer and float limits) is the one the route's arguments get."""
    import webargs.core

    def second_parse(*args, **kwargs):
        raise AssertionError("the body was parsed a second time")

    monkeypatch.setattr(webargs.core, "parse_json", second_parse)
    response = client.post("/spin", json={"bet": 3}, headers=player.headers)
    assert response.status_code == 200
    assert response.get_json()["bet"] == 3
    assert_error(client.post("/spin", json={"bet": "3"}, headers=player.headers), 422, "validation_error")
    assert_ledger_holds(app)
