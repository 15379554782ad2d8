"""The database pool: a dead connection is discarded and the next round reconnects (no pre-ping);
a request that cannot get a connection in time is a 503 to retry, not a 500."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from imperioApp.extensions import db
from imperioApp.services.rounds import play


def terminate_app_connections(url):
    killer = create_engine(url, poolclass=NullPool)
    with killer.begin() as conn:
        return (
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            .scalars()
            .all()
        )


@pytest.mark.postgres
def test_a_round_after_the_server_dropped_the_connection_reconnects(app, player):
    with app.app_context():
        assert not db.engine.pool._pre_ping
        assert db.engine.pool.size() == app.config["DB_POOL_SIZE"]
        held = [db.engine.connect() for _ in range(3)]  # a pool of several idle connections
        for connection in held:
            connection.close()
        play.spin_slots(player.id, 1)
        db.session.remove()
        assert terminate_app_connections(app.config["SQLALCHEMY_DATABASE_URI"])
        failures = 0
        for _ in range(app.config["DB_POOL_SIZE"] + 2):
            try:
                play.spin_slots(player.id, 1)
                break
            except Exception:
                failures += 1
            finally:
                db.session.remove()
        assert failures <= 1  # the dead connection fails one round, and the pool reconnects
        assert play.spin_slots(player.id, 1).round_id
        db.session.remove()


def test_a_request_that_waits_too_long_for_a_connection_is_told_to_retry(app, client, player, monkeypatch):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from imperioApp.services.money import fairness

    def exhausted(user_id):
        raise PoolTimeout("QueuePool limit reached, connection timed out")

    monkeypatch.setattr(fairness, "draw", exhausted)
    response = client.post("/spin", json={"bet": 1}, headers=player.headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "service_unavailable"
