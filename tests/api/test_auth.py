"""Sign-up, login with lockout, refresh rotation, logout and token rejection."""

import json
import logging
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from imperioApp.models import LedgerEntry, User
from tests.factories import access_token

SIGNUP = {"username": "Alice_1", "email": "Alice@Example.com", "password": "s3cret-password"}


def error_code(response):
    body = response.get_json()
    assert set(body) == {"error", "message"}, body
    assert {"code", "message"} <= set(body["error"]) and body["message"] == body["error"]["message"]
    return body["error"]["code"]


def count_users(app):
    from imperioApp.extensions import db

    with app.app_context():
        return len(db.session.execute(select(User.id)).all())


def test_signup_credits_the_bonus_through_the_ledger(app, client):
    response = client.post("/signup", json=SIGNUP)
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "Alice_1"
    assert body["email"] == "alice@example.com"
    assert body["coins"] == app.config["SIGNUP_BONUS"]
    assert "password" not in json.dumps(body) and "hash" not in json.dumps(body)
    from imperioApp.extensions import db

    with app.app_context():
        rows = db.session.execute(select(LedgerEntry.type, LedgerEntry.amount).where(LedgerEntry.user_id == body["id"])).all()
        stored = db.session.get(User, body["id"]).password_hash
    assert rows == [("signup_bonus", app.config["SIGNUP_BONUS"])]
    assert stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    "other",
    [
        {"username": "alice_1", "email": "other@example.com"},
        {"username": "ALICE_1", "email": "other@example.com"},
        {"username": "bob", "email": "alice@EXAMPLE.com"},
    ],
)
def test_username_and_email_are_unique_whatever_the_case(app, client, other):
    assert client.post("/signup", json=SIGNUP).status_code == 201
    response = client.post("/signup", json={**other, "password": "another-password"})
    assert response.status_code == 409
    assert error_code(response) in {"username_taken", "email_taken"}
    assert count_users(app) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"username": "ab", "email": "a@example.com", "password": "long-enough"},
        {"username": "a" * 33, "email": "a@example.com", "password": "long-enough"},
        {"username": "bad name", "email": "a@example.com", "password": "long-enough"},
        {"username": "<script>", "email": "a@example.com", "password": "long-enough"},
        {"username": "valid", "email": "not-an-email", "password": "long-enough"},
        {"username": "valid", "email": "a@example.com", "password": "short"},
        {"username": "valid", "email": "a@example.com", "password": "x" * 129},
        {"username": 12345, "email": "a@example.com", "password": "long-enough"},
        {"username": "valid", "email": "a@example.com", "password": 12345678},
        {"username": ["valid"], "email": "a@example.com", "password": "long-enough"},
        {"username": "valid", "email": "a@example.com", "password": "long-enough", "coins": 10**9},
        {"username": "valid", "email": "a@example.com"},
    ],
)
def test_bad_signups_are_422_and_write_nothing(app, client, payload):
    response = client.post("/signup", json=payload)
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert count_users(app) == 0


@pytest.mark.parametrize("body", ['{"username": "x",', "[1, 2]", '"text"', "null"])
def test_malformed_or_non_object_json_is_refused(app, client, body):
    response = client.post("/signup", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    error_code(response)
    assert count_users(app) == 0


def test_login_by_username_or_email_returns_a_token_pair(client, player):
    for identifier in ({"username": player.username.upper()}, {"email": player.email}, {"username": player.email}):
        response = client.post("/login", json={**identifier, "password": player.password})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900
        profile = client.get("/profile", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert profile.get_json()["username"] == player.username


@pytest.mark.parametrize(
    "payload",
    [
        {"password": "x"},
        {"username": "a", "email": "b", "password": "x"},
        {"username": "a"},
        {"username": 5, "password": "x"},
    ],
)
def test_bad_login_requests_are_422(client, payload):
    response = client.post("/login", json=payload)
    assert response.status_code == 422
    assert error_code(response) == "validation_error"


def test_wrong_password_and_unknown_user_look_the_same(client, player):
    wrong = client.post("/login", json={"username": player.username, "password": "not-it-at-all"})
    unknown = client.post("/login", json={"username": "nobody_here", "password": "not-it-at-all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_five_failures_lock_the_account_for_fifteen_minutes(app, client, player, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(5):
        response = client.post("/login", json={"username": player.username, "password": "wrong-password"})
        assert response.status_code == 401
    locked = client.post("/login", json={"username": player.username, "password": player.password})
    assert locked.status_code == 429
    assert error_code(locked) == "account_locked"
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1

    failures = [r for r in caplog.records if "login_failed" in r.getMessage()]
    assert len(failures) == 5
    assert all("wrong-password" not in r.getMessage() for r in caplog.records)
    assert any("login_refused_locked" in r.getMessage() for r in caplog.records)

    forget_login_failures(app)  # fifteen minutes later
    assert client.post("/login", json={"username": player.username, "password": player.password}).status_code == 200


def test_a_success_resets_the_failure_count(client, player):
    for _ in range(4):
        client.post("/login", json={"username": player.username, "password": "wrong-password"})
    assert client.post("/login", json={"username": player.username, "password": player.password}).status_code == 200
    for _ in range(4):
        client.post("/login", json={"username": player.username, "password": "wrong-password"})
    assert client.post("/login", json={"username": player.username, "password": player.password}).status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_dies(client, player):
    response = client.post("/token/refresh", headers=player.refresh_headers)
    assert response.status_code == 200
    fresh = response.get_json()
    assert fresh["refresh_token"] != player.tokens["refresh_token"]
    again = client.post("/token/refresh", headers=player.refresh_headers)
    assert again.status_code == 401
    assert error_code(again) == "token_revoked"
    assert client.post("/token/refresh", headers={"Authorization": f"Bearer {fresh['refresh_token']}"}).status_code == 200


def test_access_token_cannot_refresh_and_refresh_token_cannot_access(client, player):
    assert client.post("/token/refresh", headers=player.headers).status_code == 401
    response = client.get("/wallet", headers=player.refresh_headers)
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


@pytest.mark.parametrize("body", [None, {}, {"refresh_token": "anything"}])
def test_logout_ends_the_session_access_and_refresh_whatever_the_body(client, player, body):
    response = client.post("/logout", headers=player.headers, json=body)
    assert response.status_code == 204
    assert error_code(client.get("/wallet", headers=player.headers)) == "token_revoked"
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 401


def test_logout_with_someone_elses_refresh_token_ends_only_the_callers_session(client, player, make_player):
    other = make_player()
    response = client.post("/logout", headers=player.headers, json={"refresh_token": other.tokens["refresh_token"]})
    assert response.status_code == 204
    assert client.get("/wallet", headers=player.headers).status_code == 401
    assert client.get("/wallet", headers=other.headers).status_code == 200
    assert client.post("/token/refresh", headers=other.refresh_headers).status_code == 200


def forget_login_failures(app):
    """What the passing of the lock's window looks like to the counters."""
    from imperioApp.extensions import redis_store
    from imperioApp.services.identity import throttle, throttle_store

    with app.app_context():
        throttle.reset()
        if redis_store.client is not None:
            for key in redis_store.client.scan_iter(throttle_store.KEY_PREFIX + "login:*"):
                redis_store.client.delete(key)


def _forge(app, payload_changes=None, header=None, key=None):
    with app.app_context():
        token = create_access_token(identity="1", additional_claims={"sid": "s" * 24})
    payload = pyjwt.decode(token, options={"verify_signature": False})
    payload.update(payload_changes or {})
    return pyjwt.encode(payload, key or app.config["JWT_SECRET_KEY"], algorithm="HS256", headers=header)


def test_expired_tampered_and_unsigned_tokens_are_401(app, client, player):
    expired = access_token(app, player, expires_delta=timedelta(seconds=-1))
    head, payload, signature = player.tokens["access_token"].split(".")
    tampered = ".".join([head, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    import base64

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = pyjwt.decode(player.tokens["access_token"], options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    wrong_key = _forge(app, {"sub": str(player.id)}, key="another-secret-of-at-least-32-bytes!!")
    cases = {
        "token_expired": expired,
        "invalid_token": [tampered, unsigned, wrong_key, "not.a.jwt", "garbage"],
    }
    assert client.get("/wallet", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    for token in cases["invalid_token"]:
        response = client.get("/wallet", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        error_code(response)
    missing = client.get("/wallet")
    assert missing.status_code == 401 and error_code(missing) == "authorization_required"


def test_a_verified_token_still_expires(app, client, player, monkeypatch):
    """Verified tokens are remembered per process; that must not outlive their expiry."""
    import time
    from datetime import datetime

    import jwt.api_jwt as pyjwt_api

    from imperioApp.services.identity.tokens import jwt

    short = access_token(app, player, expires_delta=timedelta(minutes=10))
    headers = {"Authorization": f"Bearer {short}"}
    assert client.get("/wallet", headers=headers).status_code == 200
    # An hour later, for the remembered token and for PyJWT's own check of the token.
    monkeypatch.setattr(jwt, "clock", lambda: time.time() + 3600)

    class AnHourLater(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=1)

    monkeypatch.setattr(pyjwt_api, "datetime", AnHourLater)
    response = client.get("/wallet", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "token_expired"


def test_a_remembered_token_is_refused_by_an_app_with_another_key(make_app, app, client, player):
    assert client.get("/wallet", headers=player.headers).status_code == 200
    other = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], JWT_SECRET_KEY="another-key-of-at-least-32-characters!"
    )
    assert other.test_client().get("/wallet", headers=player.headers).status_code == 401


def test_a_token_header_is_parsed_once_per_header_form_and_read_back_intact(app, client, player, make_player, monkeypatch):
    from flask_jwt_extended import get_jwt_header, verify_jwt_in_request

    from imperioApp.speedups import jwt_tokens

    parsed = []
    real = jwt_tokens._parse_header
    monkeypatch.setattr(jwt_tokens, "_headers", {})
    monkeypatch.setattr(jwt_tokens, "_parse_header", lambda token: parsed.append(token) or real(token))
    other = make_player(username="other_player")
    for headers in (player.headers, player.headers, other.headers):
        assert client.get("/wallet", headers=headers).status_code == 200
    assert len(parsed) == 1  # every token this server issues shares one header
    with app.test_request_context(headers=other.headers):
        verify_jwt_in_request()
        assert get_jwt_header() == pyjwt.get_unverified_header(other.tokens["access_token"])
        get_jwt_header()["alg"] = "none"  # a view changing its copy changes no one else's
    with app.test_request_context(headers=player.headers):
        verify_jwt_in_request()
        assert get_jwt_header()["alg"] == "HS256"
