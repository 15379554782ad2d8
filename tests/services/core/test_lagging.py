"""Reads that may lag: on the replica while it may answer, on the primary otherwise and right after a player's round."""

import time

import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, event

from imperioApp.adapters import replica as replicas
from imperioApp.extensions import db
from imperioApp.services.core import events, lagging
from imperioApp.services.rounds import play, recall

pytestmark = pytest.mark.postgres


def counting_replica(app, url=None):
    """A Replica on `url` (default: the test database itself, a stand-in that never lags) and the SQL it runs."""
    with app.app_context():
        primary = db.engine
    engine = create_engine(url or primary.url.render_as_string(hide_password=False), connect_args={"connect_timeout": 2})
    ran = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: ran.append(statement))
    standby = replicas.Replica(engine, primary, max_lag=2, check_every=1, retry_after=5)
    standby._check = lambda: True  # this stand-in is the primary: it has no replay position
    return standby, ran


@pytest.fixture
def with_replica(app):
    """Install a Replica in the session app for one test, with the round subscriber create_app adds."""
    installed = []

    def install(url=None):
        standby, ran = counting_replica(app, url)
        app.extensions[replicas._EXTENSION] = standby
        installed.append(standby)
        return standby, ran

    with app.app_context():
        bus = events.bus()
    bus.subscribe(events.ROUND_SETTLED, lagging.on_round_settled)
    yield install
    bus._subscribers[events.ROUND_SETTLED].remove(lagging.on_round_settled)
    app.extensions[replicas._EXTENSION] = None
    for standby in installed:
        standby.engine.dispose()


def test_a_read_that_may_lag_runs_on_the_replica(app, with_replica, player):
    _, ran = with_replica()
    with app.app_context():
        assert recall.history(player.id)["items"] == []
        db.session.remove()
    assert any("game_rounds" in statement for statement in ran)


def test_a_players_own_reads_follow_their_round_to_the_primary(app, with_replica, make_player):
    standby, ran = with_replica()
    spinner, other = make_player(), make_player()
    with app.app_context():
        result = play.spin_slots(spinner.id, 1)
        db.session.remove()
        ran.clear()
        # Right after the round: the primary answers, and the round is there.
        assert recall.history(spinner.id)["items"][0]["id"] == result.round_id
        assert recall.get_round(spinner.id, result.round_id)["id"] == result.round_id
        assert ran == []
        # Another player's reads, and everyone's once the window has passed, go to the replica.
        recall.history(other.id)
        assert ran
        ran.clear()
        standby.marks[spinner.id] = time.monotonic() - 1
        if app.extensions.get("redis") is not None:
            app.extensions["redis"].delete(f"imperio:wrote:{spinner.id}")
        recall.history(spinner.id)
        assert ran
        db.session.remove()


def test_a_replica_that_fails_a_read_is_left_alone_and_the_primary_answers(app, with_replica, make_player):
    standby, ran = with_replica("postgresql+psycopg2://postgres@127.0.0.1:1/imperio")
    reader = make_player()
    with app.app_context():
        assert recall.history(reader.id)["items"] == []
        db.session.remove()
    assert standby._down_until > time.monotonic()
    standby._check = lambda: pytest.fail("checked again before REPLICA_RETRY_SECONDS")
    with app.app_context():
        assert standby.usable() is False
        assert recall.history(reader.id)["items"] == []
        db.session.remove()


def test_a_server_that_is_no_replica_is_never_used(app):
    with app.app_context():
        primary = db.engine
    standby = replicas.Replica(primary, primary, max_lag=2, check_every=1, retry_after=5)
    with app.app_context():
        assert standby.usable() is False
    assert standby._down_until > time.monotonic()
    assert REGISTRY.get_sample_value("imperio_db_replica_lag_seconds") == float("inf")


def test_when_redis_cannot_say_a_players_reads_go_to_the_primary(app, with_replica, player, monkeypatch):
    standby, _ = with_replica()
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "redis", dead)
    with app.app_context():
        assert lagging.wrote_recently(player.id, standby) is True
        lagging.note_write(player.id)  # logged, not raised
    assert standby.marks[player.id] > time.monotonic()


def test_a_blackjack_round_left_open_is_a_write_the_players_reads_follow(app, with_replica, player):
    _, ran = with_replica()
    with app.app_context():
        result = play.start_blackjack(player.id, 5)
        db.session.remove()
        ran.clear()
        assert recall.history(player.id)["items"][0]["id"] == result.round_id
        assert ran == []
        db.session.remove()
