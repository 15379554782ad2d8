"""The settings of a deployment beyond one box: Redis through Sentinel, PgBouncer, a replica."""

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from redis.exceptions import RedisError

from imperioApp import configure_redis_users
from imperioApp.adapters import replica
from imperioApp.adapters.replica import lag_seconds, lsn_number
from imperioApp.extensions import RedisConnection, SentinelBlockingPool, sentinel_settings
from imperioApp.realtime import queue_redis_options

SENTINELS = "redis+sentinel://127.0.0.1:1,127.0.0.1:2/3/imperio"


def test_a_sentinel_url_names_the_sentinels_the_database_and_the_master():
    assert sentinel_settings(SENTINELS) == ([("127.0.0.1", 1), ("127.0.0.1", 2)], "imperio", {"db": 3})
    assert sentinel_settings("redis+sentinel://:secret@h:26379/0/main")[2] == {"db": 0, "password": "secret"}
    assert sentinel_settings("redis://127.0.0.1:6379/0") is None
    assert sentinel_settings(None) is None
    with pytest.raises(ValueError, match="master name"):
        sentinel_settings("redis+sentinel://h:26379/0")


def sentinel_app():
    """A bare Flask app with a sentinel REDIS_URL (not create_app: Flask-Limiter merges every app's
    storage options into its one global object, and this one's would outlive the test)."""
    app = Flask(__name__)
    app.config.update(REDIS_URL=SENTINELS, REDIS_SOCKET_TIMEOUT=1.0)
    return app


def test_every_redis_client_follows_the_sentinels_of_one_url():
    app = sentinel_app()
    configure_redis_users(app)
    # The rate limiter in limits' form, counting on the master only.
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis+sentinel://127.0.0.1:1,127.0.0.1:2/imperio"
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["db"] == 3
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["use_replicas"] is False
    assert app.config["CACHE_TYPE"] == "RedisSentinelCache"
    assert app.config["CACHE_REDIS_SENTINELS"] == [("127.0.0.1", 1), ("127.0.0.1", 2)]
    assert (app.config["CACHE_REDIS_SENTINEL_MASTER"], app.config["CACHE_REDIS_DB"]) == ("imperio", 3)
    RedisConnection().init_app(app)
    client = app.extensions["redis"]
    assert isinstance(client.connection_pool, SentinelBlockingPool)
    assert client.connection_pool.connection_kwargs["db"] == 3
    # No sentinel answers: a Redis error at once, which every caller already degrades on.
    with pytest.raises(RedisError):
        client.ping()


def test_the_message_queue_reads_the_same_url_with_no_read_timeout():
    options = queue_redis_options(sentinel_app(), SENTINELS)
    assert "socket_timeout" not in options
    assert options["sentinel_kwargs"]["socket_timeout"] == 1.0
    assert queue_redis_options(sentinel_app(), "redis://127.0.0.1:6379/0") == {}


def test_without_a_replica_url_there_is_no_replica(make_app):
    app = make_app("testing")
    with app.app_context():
        assert replica.current() is None


def test_a_replica_is_used_only_with_a_postgresql_primary(make_app):
    app = make_app("testing", DATABASE_REPLICA_URL="postgresql://u@127.0.0.1:1/x")
    assert app.config["DATABASE_REPLICA_URL"].startswith("postgresql+psycopg2://")
    with app.app_context():
        assert replica.current() is None  # the primary here is SQLite


def test_lsns_compare_as_numbers():
    assert lsn_number("0/16B3748") < lsn_number("0/16B3750") < lsn_number("1/0")
    assert lsn_number("16/B374D848") == (0x16 << 32) + 0xB374D848


def test_a_replica_that_replayed_the_primarys_position_is_current_else_as_old_as_its_last_commit():
    clock = datetime(2026, 12, 8, 1, 0, 0, tzinfo=timezone.utc)
    assert lag_seconds("0/100", clock, "0/100", None) == 0.0
    assert lag_seconds("0/100", clock, "0/200", clock - timedelta(hours=1)) == 0.0  # ahead of the sample
    assert lag_seconds("0/200", clock, "0/100", clock - timedelta(seconds=3)) == 3.0
    assert lag_seconds("0/200", clock, "0/100", clock + timedelta(seconds=1)) == 0.0  # committed after the sample
    assert lag_seconds("0/200", clock, "0/100", None) == float("inf")
