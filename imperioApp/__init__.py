"""ImperioCasino: the application factory."""

import logging

from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEFAULT_JWT_SECRET_KEY, DEFAULT_SECRET_KEY, get_config, normalise_database_url

from . import error_reporting, games, metrics, speedups
from .adapters import driver, replica, sealing
from .adapters.pool import FairQueuePool
from .extensions import cache, db, migrate, redis_client_options, redis_store, sentinel_settings
from .observability import configure_logging
from .pipeline import register_request_pipeline
from .realtime import init_socketio, register_realtime
from .speedups.flask_app import ImperioFlask
from .web import register_web


def create_app(config=None, **overrides):
    """Build the app from a config name ('development', 'testing', 'production'), a config
    class, or None ($APP_ENV); keyword overrides win over both."""
    app = ImperioFlask(__name__, instance_relative_config=True)
    app.config.from_object(get_config(config) if config is None or isinstance(config, str) else config)
    app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("DATABASE_REPLICA_URL"):
        app.config["DATABASE_REPLICA_URL"] = normalise_database_url(app.config["DATABASE_REPLICA_URL"])
    check_production_secrets(app)
    speedups.install(app)
    register_logging(app)
    register_extensions(app)
    register_database_pragmas(app)
    register_api_and_errors(app)
    register_http_behaviour(app)
    register_cli(app)
    register_shell_context(app)
    register_realtime(app)
    register_web(app)
    register_request_pipeline(app)
    return app


def check_production_secrets(app):
    """Refuse to run production with the development secrets, none at all, or operators without a second factor."""
    if app.config.get("ENV_NAME") != "production":
        return
    weak = [
        name
        for name, default in (("SECRET_KEY", DEFAULT_SECRET_KEY), ("JWT_SECRET_KEY", DEFAULT_JWT_SECRET_KEY))
        if app.config.get(name) in (None, "", default) or len(app.config.get(name)) < 32
    ]
    if weak:
        raise RuntimeError(
            f"production refuses to start: set {', '.join(weak)} to random values of at least "
            "32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if not app.config.get("OPERATOR_2FA_REQUIRED"):
        raise RuntimeError("production refuses to start with OPERATOR_2FA_REQUIRED off: operators sign in with TOTP")


def register_logging(app):
    configure_logging(getattr(logging, app.config["LOG_LEVEL"].upper(), logging.INFO), app.config["LOG_JSON"])
    error_reporting.init_app(app)


def register_extensions(app):
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        # Waiting checkouts are served in arrival order (see adapters/pool.py).
        options.setdefault("poolclass", FairQueuePool)
        options.setdefault("pool_size", app.config.get("DB_POOL_SIZE", 10))
        options.setdefault("max_overflow", 0)
        options.setdefault("pool_timeout", app.config.get("DB_POOL_TIMEOUT", 10))
        options.setdefault("pool_recycle", app.config.get("DB_POOL_RECYCLE", 1800))
        options.setdefault("pool_pre_ping", app.config.get("DB_POOL_PRE_PING", False))
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            # An unreachable server fails in seconds (503 with Retry-After), not after a TCP timeout.
            connect_args = {"connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT"], **options.get("connect_args", {})}
            options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    driver.use_driver_sessions(db)
    db.init_app(app)
    with app.app_context():
        primary = db.engine
    if not app.config.get("DB_PREPARED_STATEMENTS", True):
        driver.unprepared(primary)
    replica.init_app(app, primary, options)
    migrate.init_app(app, db, render_as_batch=True)
    configure_redis_users(app)
    cache.init_app(app)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "imperio:ratelimit")
    # The limiter and CORS are initialised by the request pipeline, where their hooks belong.
    redis_store.init_app(app)
    # Before ProxyFix wraps the app, so Socket.IO requests see the client's real address too.
    init_socketio(app)
    from .services.competitions import scoring
    from .services.core import events, lagging
    from .services.engagement import board_pushes, leaderboards
    from .services.identity import passwords, tokens
    from .services.rounds import settlement

    tokens.init_app(app)
    passwords.init_app(app)
    sealing.init_app(app)
    events.init_app(app)
    board_pushes.init_app(app)
    metrics.init_app(app)
    metrics.precreate_series(games.GAMES, [(m, t) for m in leaderboards.METRICS for t in leaderboards.TIMEFRAMES])
    settlement.register_scorer(app, scoring.score_round, folded=scoring.FoldedScoring)
    with app.app_context():
        events.bus().subscribe(events.ROUND_SETTLED, metrics.on_round_settled)
        if replica.current() is not None:
            events.bus().subscribe(events.ROUND_SETTLED, lagging.on_round_settled)


def configure_redis_users(app):
    """Point the cache and the rate limiter at REDIS_URL: one server, or a master found through sentinels."""
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("CACHE_KEY_PREFIX", "imperio:cache:")
    sentinel = sentinel_settings(redis_url)
    if sentinel is None:
        app.config.setdefault("CACHE_TYPE", "RedisCache" if redis_url else "SimpleCache")
        app.config.setdefault("CACHE_REDIS_URL", redis_url)
        app.config.setdefault("CACHE_OPTIONS", redis_client_options(app) if redis_url else {})
        app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_client_options(app) if redis_url else {})
        return
    sentinels, service, options = sentinel
    timeout = app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)
    app.config.setdefault("CACHE_TYPE", "RedisSentinelCache")
    app.config.setdefault("CACHE_REDIS_SENTINELS", sentinels)
    app.config.setdefault("CACHE_REDIS_SENTINEL_MASTER", service)
    app.config.setdefault("CACHE_REDIS_DB", options.get("db", 0))
    app.config.setdefault("CACHE_REDIS_PASSWORD", options.get("password"))
    app.config.setdefault("CACHE_REDIS_SENTINEL_PASSWORD", options.get("password"))
    app.config.setdefault(
        "CACHE_OPTIONS",
        {**redis_client_options(app), "sentinel_socket_timeout": timeout, "sentinel_socket_connect_timeout": timeout},
    )
    # limits' form: redis+sentinel://host:port,host:port/master-name, the database as an option.
    auth = redis_url[len("redis+sentinel://") :].rpartition("@")[0]
    hosts = ",".join(f"{host}:{port}" for host, port in sentinels)
    app.config.setdefault("RATELIMIT_STORAGE_URI", f"redis+sentinel://{auth + '@' if auth else ''}{hosts}/{service}")
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        {
            **redis_client_options(app),
            "db": options.get("db", 0),
            # Counting on a replica would count against a copy: every call goes to the master.
            "use_replicas": False,
            "sentinel_kwargs": {"socket_timeout": timeout, "socket_connect_timeout": timeout},
        },
    )


def register_database_pragmas(app):
    """On SQLite, start every transaction IMMEDIATE so concurrent writers queue, not fail."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine
    file_database = engine.url.database not in (None, "", ":memory:")
    synchronous = {"FULL": "FULL", "NORMAL": "NORMAL"}[app.config.get("SQLITE_SYNCHRONOUS", "FULL").upper()]

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        if file_database:
            # Write-ahead log: a commit appends to one file (one fsync) instead of rewriting
            # a rollback journal, and readers never wait for the writer.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_api_and_errors(app):
    from .api import register_api
    from .api.errors import register_error_handlers

    app.extensions["imperio.api"] = register_api(app)
    # After flask-smorest's own handler, so these are the ones that answer.
    register_error_handlers(app)


def register_http_behaviour(app):
    if app.config.get("TRUST_PROXY_HEADERS"):
        hops = int(app.config["TRUST_PROXY_HEADERS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_cli(app):
    from .cli import blp as cli_blueprint

    app.register_blueprint(cli_blueprint)


def register_shell_context(app):
    from . import models

    app.shell_context_processor(lambda: {"db": db, "models": models})
