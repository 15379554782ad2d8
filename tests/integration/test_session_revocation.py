"""Ended sessions are recorded in the database: Redis losing everything, or being down, revives none."""

import pytest

from imperioApp.extensions import redis_store

pytestmark = pytest.mark.redis


def test_revocations_survive_a_redis_restart(app, client, player):
    client.post("/logout", headers=player.headers)
    with app.app_context():
        redis_store.client.flushdb()  # what a restart of a Redis that keeps nothing looks like
    response = client.get("/wallet", headers=player.headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_revoked"


def test_revoked_tokens_are_refused_when_redis_is_down(make_app, app, player, client):
    client.post("/logout", headers=player.headers)
    broken = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_SOCKET_TIMEOUT=0.2,
        RATELIMIT_STORAGE_URI="memory://",
    )
    response = broken.test_client().get("/wallet", headers=player.headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_revoked"
