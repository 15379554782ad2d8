"""Degrade, don't die: with Redis unreachable, games settle and reads answer, promptly."""

import time

import pytest


@pytest.fixture
def without_redis(make_app, app):
    return make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_SOCKET_TIMEOUT=0.2,
        SOCKETIO_USE_MESSAGE_QUEUE=False,
    )


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/spin", {"bet": 2}),
        ("post", "/roulette/spin", {"bets": [{"type": "red", "amount": 1}]}),
        ("get", "/getCoins", None),
        ("get", "/leaderboard?metric=games_played&timeframe=daily", None),
        ("get", "/statistics", None),
        ("get", "/achievements", None),
        ("get", "/profile", None),
    ],
)
def test_requests_succeed_quickly_with_redis_down(without_redis, player, method, path, body):
    client = without_redis.test_client()
    response, elapsed = timed(lambda: getattr(client, method)(path, json=body, headers=player.headers))
    assert response.status_code == 200, response.get_json()
    assert elapsed < 1.5, f"{path} took {elapsed:.2f}s with Redis down"


def test_login_and_logout_work_with_redis_down(without_redis, player):
    client = without_redis.test_client()
    response, elapsed = timed(lambda: client.post("/login", json={"username": player.username, "password": player.password}))
    assert response.status_code == 200 and elapsed < 1.5
    access = response.get_json()["access_token"]
    assert client.post("/logout", headers={"Authorization": f"Bearer {access}"}).status_code == 204
    # The revocation reached the database, so it holds even though Redis never saw it.
    assert client.get("/getCoins", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_readiness_reports_redis_down(without_redis):
    body = without_redis.test_client().get("/health/ready").get_json()
    assert body["checks"]["redis"] == "down" and body["checks"]["database"] == "ok"


def test_the_login_limit_holds_in_memory_while_redis_is_down(make_app, app, player):
    down = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_SOCKET_TIMEOUT=0.2,
        SOCKETIO_USE_MESSAGE_QUEUE=False,
        RATELIMIT_LOGIN="5 per minute",
    )
    client = down.test_client()
    statuses = [
        client.post("/login", json={"username": player.username, "password": player.password}).status_code for _ in range(15)
    ]
    assert statuses == [200] * 5 + [429] * 10
    refused = client.post("/login", json={"username": player.username, "password": player.password})
    assert 0 < int(refused.headers["Retry-After"]) <= 60
