"""Application configuration, read from the environment (and `.env` when present)."""

import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

# Marker values that production refuses: a deployment must set its own secrets.
DEFAULT_SECRET_KEY = "development-only-secret-key-change-me-in-production"
DEFAULT_JWT_SECRET_KEY = "development-only-jwt-secret-change-me-in-production"


def _env(name, default=None):
    """The variable's value, or `default` when it is unset or empty (as in .env.example)."""
    return os.environ.get(name) or default


def _env_int(name, default):
    return int(_env(name, default))


def _env_list(name, default=""):
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def normalise_database_url(url):
    """Select psycopg2 for PostgreSQL URLs (made cooperative under gevent by psycogreen)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    JWT_SECRET_KEY = _env("JWT_SECRET_KEY", DEFAULT_JWT_SECRET_KEY)
    JWT_ALGORITHM = "HS256"
    # API access tokens; no client refreshes them silently, so this is how long a login lasts.
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=_env_int("ACCESS_TOKEN_TTL", 15 * 60))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=7)
    JWT_TOKEN_LOCATION = ["headers"]

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'imperio.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # PostgreSQL connections per process: a fixed pool (no overflow: past it, requests wait
    # in line for a connection), no liveness ping on every checkout (a connection that fails
    # is discarded and the next checkout reconnects), recycled after DB_POOL_RECYCLE seconds.
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)
    DB_POOL_TIMEOUT = _env_int("DB_POOL_TIMEOUT", 10)
    DB_POOL_RECYCLE = _env_int("DB_POOL_RECYCLE", 1800)
    DB_POOL_PRE_PING = _env("DB_POOL_PRE_PING", "0") == "1"
    # Server-side prepared statements for the settlement's hot statements (adapters/driver.py).
    # Set 0 when DATABASE_URL is a pooler in transaction mode (PgBouncer): a statement
    # prepared in one transaction may be missing on the server connection of the next.
    DB_PREPARED_STATEMENTS = _env("DB_PREPARED_STATEMENTS", "1") == "1"
    # A streaming replica for the reads that may lag (services/core/lagging.py); unset: every
    # read on the primary. It serves only while at most REPLICA_MAX_LAG_SECONDS behind
    # (checked at most every REPLICA_CHECK_SECONDS per process); after a failure it is left
    # alone for REPLICA_RETRY_SECONDS.
    DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL")
    REPLICA_MAX_LAG_SECONDS = float(_env("REPLICA_MAX_LAG_SECONDS", "2"))
    REPLICA_CHECK_SECONDS = float(_env("REPLICA_CHECK_SECONDS", "1"))
    REPLICA_RETRY_SECONDS = float(_env("REPLICA_RETRY_SECONDS", "5"))
    DB_REPLICA_POOL_SIZE = _env_int("DB_REPLICA_POOL_SIZE", 5)
    # SQLite (the embedded default) runs in WAL mode; FULL syncs every commit to disk,
    # NORMAL only at checkpoints (a power cut may then lose the last commits, never corrupt).
    SQLITE_SYNCHRONOUS = _env("SQLITE_SYNCHRONOUS", "FULL")
    # With the database down, requests answer 503 with this Retry-After (and recover by themselves).
    DATABASE_RETRY_AFTER_SECONDS = 2
    DATABASE_CONNECT_TIMEOUT = 3
    REDIS_URL = _env("REDIS_URL")
    # Connections per process; past it callers wait (blocking pool), as thousands of socket greenlets may.
    REDIS_MAX_CONNECTIONS = _env_int("REDIS_MAX_CONNECTIONS", 100)

    # The collector's thresholds in serving processes (imperioApp/collector.py): a request
    # allocates thousands of objects, so Python's default (700) runs young collections very often.
    GC_THRESHOLD = tuple(int(part) for part in _env_list("GC_THRESHOLD") or ("10000", "20", "50"))

    CORS_ORIGINS = _env_list("CORS_ORIGINS")
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    LOG_JSON = True
    TRUST_PROXY_HEADERS = _env_int("TRUST_PROXY_HEADERS", 0)
    # Error reporting (imperioApp/error_reporting.py): off while SENTRY_DSN is unset. The
    # environment defaults to ENV_NAME, the release to the checked-out commit.
    SENTRY_DSN = _env("SENTRY_DSN")
    SENTRY_ENVIRONMENT = _env("SENTRY_ENVIRONMENT")
    SENTRY_RELEASE = _env("SENTRY_RELEASE")

    SIGNUP_BONUS = _env_int("SIGNUP_BONUS", 1000)
    BIG_WIN_THRESHOLD = _env_int("BIG_WIN_THRESHOLD", 1000)

    # Table limits, in coins per round (roulette: all bets of one spin together).
    # The most coins one balance may hold: credits and stakes that could pass it are refused
    # (409 balance_ceiling). At most 2**62, so no sum of a balance and an amount overflows BIGINT.
    MAX_BALANCE = min(_env_int("MAX_BALANCE", 10**15), 2**62)
    # An open blackjack round with no action for this long is ended by the server (standing).
    ROUND_ABANDON_MINUTES = _env_int("ROUND_ABANDON_MINUTES", 5)
    SLOTS_MAX_BET = _env_int("SLOTS_MAX_BET", 100)
    BLACKJACK_MAX_WAGER = _env_int("BLACKJACK_MAX_WAGER", 1000)
    ROULETTE_MAX_TOTAL_BET = _env_int("ROULETTE_MAX_TOTAL_BET", 1000)
    # The old roulette client's board has 151 places to bet; all of them fit.
    ROULETTE_MAX_BETS = _env_int("ROULETTE_MAX_BETS", 160)

    MAX_CONTENT_LENGTH = 64 * 1024
    # Login failures: per (name, address) pair, and per name from all addresses together.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = 15
    LOGIN_ACCOUNT_MAX_FAILURES = _env_int("LOGIN_ACCOUNT_MAX_FAILURES", 50)
    LOGIN_ACCOUNT_WINDOW_MINUTES = 60
    # How long a process trusts a session it saw live without asking the database again
    # (processes listening to the Socket.IO queue hear of an ended session at once).
    AUTH_SESSION_CACHE_SECONDS = float(_env("AUTH_SESSION_CACHE_SECONDS", "5"))
    # A refresh token presented again this soon after its rotation is refused, not a theft.
    REFRESH_REUSE_GRACE_SECONDS = 10
    IDEMPOTENCY_TTL_HOURS = 24

    # Argon2id cost: the library's RFC 9106 "low memory" profile unless overridden.
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)

    # Browser pages: a signed HttpOnly cookie holds the browser session; forms carry a CSRF token.
    SESSION_COOKIE_NAME = "imperio_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    BROWSER_SESSION_TTL = _env_int("BROWSER_SESSION_TTL", 12 * 3600)
    # A game token lives in an old frontend's URL and storage: one evening's play, never past
    # the browser session that launched it.
    GAME_TOKEN_TTL = _env_int("GAME_TOKEN_TTL", 4 * 3600)
    WTF_CSRF_CHECK_DEFAULT = False  # only the page forms are checked; the JSON API is bearer-only
    WTF_CSRF_TIME_LIMIT = None  # a form's token is good for as long as its browser session
    CHERRY_CHARM_URL = _env("CHERRY_CHARM_URL", "http://localhost:5173")
    BLACK_JACK_URL = _env("BLACK_JACK_URL", "http://localhost:5174")
    ROULETTE_URL = _env("ROULETTE_URL", "http://localhost:5175")

    RATELIMIT_ENABLED = True
    # Per-address limit on every endpoint; off unless set (see extensions.py for why).
    RATELIMIT_DEFAULT = _env("RATELIMIT_DEFAULT")
    RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_SIGNUP = _env("RATELIMIT_SIGNUP", "5 per hour")
    # Codes an operator may try per minute (a 6-digit code would otherwise be guessable).
    RATELIMIT_SECOND_FACTOR = _env("RATELIMIT_SECOND_FACTOR", "5 per minute")
    # X-RateLimit-* headers cost two storage round trips per request; a 429 still says Retry-After.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_SWALLOW_ERRORS = True  # Redis down must not take the API down with it.
    # ... nor switch the limits off: each process counts in memory until Redis answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    SOCKETIO_ASYNC_MODE = _env("SOCKETIO_ASYNC_MODE", "gevent")
    # With REDIS_URL set, Socket.IO emits travel through Redis to every process.
    SOCKETIO_USE_MESSAGE_QUEUE = True
    # REST-only processes publish emits but need not listen to the queue.
    SOCKETIO_WRITE_ONLY = _env("SOCKETIO_WRITE_ONLY", "0") == "1"
    # The Redis pub/sub channel of the message queue: channels span every Redis database, so
    # deployments sharing one Redis server need one channel each.
    SOCKETIO_CHANNEL = _env("SOCKETIO_CHANNEL", "imperio-socketio")
    # Engine.IO drops a connection sending more; below it, events over the app cap get `error`.
    SOCKETIO_MAX_HTTP_BUFFER = _env_int("SOCKETIO_MAX_HTTP_BUFFER", 64 * 1024)
    SOCKETIO_MAX_EVENT_BYTES = _env_int("SOCKETIO_MAX_EVENT_BYTES", 8 * 1024)
    LEADERBOARD_PUSH_INTERVAL = float(_env("LEADERBOARD_PUSH_INTERVAL", "0.5"))
    # Tournaments: a period closes this long after its end, so every round that settled
    # before the end has committed; standings are pushed at most once per interval.
    TOURNAMENT_CLOSE_GRACE_SECONDS = float(_env("TOURNAMENT_CLOSE_GRACE_SECONDS", "5"))
    TOURNAMENT_PUSH_INTERVAL = float(_env("TOURNAMENT_PUSH_INTERVAL", "1.0"))
    # A process writes the leaderboard index at most once per this many seconds, every round
    # settled meanwhile in one Redis call (0: each round before its request answers).
    LEADERBOARD_INDEX_LINGER_SECONDS = float(_env("LEADERBOARD_INDEX_LINGER_SECONDS", "0.05"))
    LEADERBOARD_PUSH_SIZE = 10
    CHAT_RATE_LIMIT = _env_int("CHAT_RATE_LIMIT", 5)
    CHAT_RATE_WINDOW_SECONDS = _env_int("CHAT_RATE_WINDOW_SECONDS", 5)
    CHAT_HISTORY_SIZE = 50
    CHAT_MAX_MUTE_MINUTES = 7 * 24 * 60
    ROOM_TTL_SECONDS = _env_int("ROOM_TTL_SECONDS", 6 * 3600)
    TABLE_BETTING_SECONDS = float(_env("TABLE_BETTING_SECONDS", "15"))

    # Operators prove a TOTP second factor before any admin route answers. Off only outside
    # production (which refuses to start without it), for local work and black-box tests.
    OPERATOR_2FA_REQUIRED = _env("OPERATOR_2FA_REQUIRED", "1") != "0"
    # The keys operators' TOTP secrets are sealed with in the database (Fernet, comma-separated,
    # the first one sealing); without any, a key derived from SECRET_KEY (adapters.sealing).
    SECOND_FACTOR_KEYS = _env_list("SECOND_FACTOR_KEYS")
    # An adjustment of more coins than this (either way), or any to one's own account, waits
    # for a second admin's approval.
    ADJUSTMENT_APPROVAL_THRESHOLD = _env_int("ADJUSTMENT_APPROVAL_THRESHOLD", 10_000)
    # The console's dashboard alerts when a game's RTP today is this many percentage points
    # or more from its published RTP (once it has ADMIN_RTP_ALERT_MIN_ROUNDS rounds).
    ADMIN_RTP_ALERT_BAND = float(_env("ADMIN_RTP_ALERT_BAND", "5.0"))
    ADMIN_RTP_ALERT_MIN_ROUNDS = _env_int("ADMIN_RTP_ALERT_MIN_ROUNDS", 200)
    # ... and when this share of the service's requests answered 5xx.
    ADMIN_ERROR_RATE_ALERT = float(_env("ADMIN_ERROR_RATE_ALERT", "0.01"))

    # Responsible gaming: how long a raised or removed limit waits, the reality-check
    # intervals a player may choose, and the pause in play that starts a new session.
    LIMIT_RAISE_DELAY_HOURS = 24
    # An operator may lift a time-out or self-exclusion made in error within this many hours of it.
    EXCLUSION_LIFT_WINDOW_HOURS = 24
    REALITY_CHECK_MINUTES_RANGE = (10, 480)
    REALITY_CHECK_IDLE_MINUTES = _env_int("REALITY_CHECK_IDLE_MINUTES", 30)

    API_TITLE = "ImperioCasino API"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Swagger UI from the swagger-ui-bundle package, served by imperioApp.web (no CDN).
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    API_SPEC_OPTIONS = {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearerAuth": []}],
    }


class DevelopmentConfig(Config):
    """Local development: SQLite file, in-memory cache and rate limits, permissive CORS."""

    ENV_NAME = "development"
    DEBUG = False
    CORS_ORIGINS = _env_list("CORS_ORIGINS", "*")
    # Loose enough for someone trying the frontends with several test accounts.
    RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "60 per minute")
    RATELIMIT_SIGNUP = _env("RATELIMIT_SIGNUP", "100 per hour")


class TestingConfig(Config):
    """The test suite: cheap password hashing, no rate limits unless a test turns them on."""

    ENV_NAME = "testing"
    TESTING = True
    # A developer's SENTRY_DSN never receives the suite's errors; the tests that report name their own.
    SENTRY_DSN = None
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite:///:memory:")
    DATABASE_REPLICA_URL = _env("TEST_DATABASE_REPLICA_URL")
    REDIS_URL = _env("TEST_REDIS_URL")
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    # Flask-Limiter keeps its settings on the one global Limiter, so tests keep it enabled
    # with generous limits and tighten a limit through the app config where they need to.
    RATELIMIT_DEFAULT = "100000 per minute"
    RATELIMIT_LOGIN = "100000 per minute"
    RATELIMIT_SIGNUP = "100000 per minute"
    RATELIMIT_SECOND_FACTOR = "100000 per minute"
    SOCKETIO_ASYNC_MODE = "threading"
    # Flask-SocketIO's test client refuses a message queue; the integration tests use one.
    SOCKETIO_USE_MESSAGE_QUEUE = False
    TABLE_BETTING_SECONDS = 0.3
    # Tests read the boards right after a round: each round is indexed before it answers
    # (tests/unit/test_round_score_queue.py covers the linger).
    LEADERBOARD_INDEX_LINGER_SECONDS = 0.0
    TOURNAMENT_CLOSE_GRACE_SECONDS = 0.0
    TOURNAMENT_PUSH_INTERVAL = 0.2
    LOG_LEVEL = "INFO"
    # The suite signs operators in with the password; the second-factor tests turn it on.
    OPERATOR_2FA_REQUIRED = _env("OPERATOR_2FA_REQUIRED", "0") != "0"


class ProductionConfig(Config):
    """Production: secrets must come from the environment."""

    ENV_NAME = "production"
    CORS_ORIGINS = _env_list("CORS_ORIGINS")
    SESSION_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name=None):
    """Return the config class for `name` (default: $APP_ENV, else development)."""
    name = name or _env("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown configuration {name!r}; expected one of {sorted(CONFIGS)}") from None
