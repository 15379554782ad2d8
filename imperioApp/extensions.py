"""Flask extensions, created unbound and initialised in `create_app`."""

import redis
import redis.sentinel
from flask import current_app, request
from flask_caching import Cache
from flask_cors import CORS
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from socketio.redis_manager import parse_redis_sentinel_url
from sqlalchemy import MetaData

from .speedups.limiter import RouteLimiter

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def client_address():
    """The caller's address, as rate limits and security logs see it."""
    return request.remote_addr or "unknown"


def user_agent():
    """The caller's User-Agent, as its session records it."""
    return request.headers.get("User-Agent", "")[:256]


# Services read back what they wrote through Core statements, so nothing is expired on commit.
# `create_app` makes its sessions `adapters.driver.DriverAwareSession`s, so that a transaction
# the driver started runs ORM statements on its connection.
db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    session_options={"expire_on_commit": False},
)
migrate = Migrate()
cache = Cache()


# Limits are callables so that each app's config decides them at request time. The
# app-wide default is off unless RATELIMIT_DEFAULT is set: it costs several storage round
# trips on every request (measured: about 2 ms of CPU on a 3 ms round), and NGINX's
# limit_req does that flood protection cheaper at the edge. Login and sign-up always have
# their own limits. `RouteLimiter` (speedups) skips the limiter's hooks while it is off.
limiter = RouteLimiter(
    key_func=client_address,
    default_limits=[lambda: current_app.config["RATELIMIT_DEFAULT"] or "1 per second"],
    default_limits_exempt_when=lambda: not current_app.config.get("RATELIMIT_DEFAULT"),
)

socketio = SocketIO()
cors = CORS()


NO_RETRY = Retry(NoBackoff(), 0)


def redis_client_options(app):
    """Connection options every Redis client of the app shares (cache, rate limits, index)."""
    timeout = app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": NO_RETRY}


def sentinel_settings(url):
    """(sentinel addresses, master name, connection options) of a redis+sentinel:// URL, else None.

    The form is python-socketio's, so the message queue reads the same URL:
    redis+sentinel://[:password@]host:port,host:port,.../db/master-name
    """
    if not (url or "").startswith("redis+sentinel://"):
        return None
    sentinels, service, options = parse_redis_sentinel_url(url)
    if not service:
        raise ValueError("REDIS_URL redis+sentinel://host:port,.../db/master-name: the master name is missing")
    return sentinels, service, options


def sentinel_for(app, sentinels, options):
    """A Sentinel whose own connections and whose master connections fail fast, as every client here."""
    timeout = app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)
    sentinel_options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if "password" in options:
        sentinel_options["password"] = options["password"]
    return redis.sentinel.Sentinel(sentinels, sentinel_kwargs=sentinel_options, **redis_client_options(app), **options)


class SentinelBlockingPool(redis.sentinel.SentinelConnectionPool, redis.BlockingConnectionPool):
    """The master's connections, found through the sentinels; past its size callers wait, as in the plain pool."""


class RedisConnection:
    """The app's Redis client, or None when REDIS_URL is unset (in-memory mode)."""

    def init_app(self, app):
        """Connect lazily to REDIS_URL; short timeouts so a dead Redis degrades, not hangs."""
        url = app.config.get("REDIS_URL")
        client = None
        timeout = app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)
        # A gevent process runs thousands of greenlets (one per socket): past the pool's
        # size they wait briefly for a connection instead of failing "Too many connections".
        pool_options = {"max_connections": app.config.get("REDIS_MAX_CONNECTIONS", 100), "timeout": timeout}
        sentinel = sentinel_settings(url)
        if sentinel is not None:
            sentinels, service, options = sentinel
            # Each new connection asks the sentinels for the current master: after a
            # failover the pool's connections fail once and reconnect to the promoted replica.
            client = sentinel_for(app, sentinels, options).master_for(
                service, connection_pool_class=SentinelBlockingPool, health_check_interval=30, **pool_options
            )
        elif url:
            pool = redis.BlockingConnectionPool.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=30,
                # redis-py retries with backoff by default: seconds per call against a dead
                # Redis. Every caller here has a fallback, so fail at once instead.
                retry=NO_RETRY,
                **pool_options,
            )
            client = redis.Redis(connection_pool=pool)
        app.extensions["redis"] = client

    @property
    def client(self):
        """The current app's client, or None."""
        return current_app.extensions.get("redis")


redis_store = RedisConnection()
