"""Prometheus metrics: what an operator watches, counted where each thing is decided.

Under Gunicorn every worker writes its samples to PROMETHEUS_MULTIPROC_DIR (prepared by
deployment/gunicorn_metrics.py) and `/metrics` adds up every worker of the service, so a
scrape of one service port sees the whole service. Without that variable (tests, `make run`)
the samples live in this process. Prometheus names each scraped service by its `instance`
label, so nothing here labels the process itself.
"""

import os
import threading
from time import monotonic, perf_counter

from flask import g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ENDPOINT = "unmatched"

HTTP_REQUESTS = Counter(
    "imperio_http_requests",
    "HTTP requests answered, by route pattern, method and status",
    ["endpoint", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "imperio_http_request_duration_seconds",
    "Time from the request reaching Flask to its response, by route pattern",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ROUNDS_SETTLED = Counter("imperio_rounds_settled", "Game rounds settled, by game", ["game"])
COINS_WAGERED = Counter("imperio_coins_wagered", "Coins staked on settled rounds, by game", ["game"])
COINS_PAID = Counter("imperio_coins_paid", "Coins paid back to players on settled rounds, by game", ["game"])
WALLET_REFUSALS = Counter("imperio_wallet_refusals", "Wallet movements refused, by reason", ["reason"])
IDEMPOTENT_REPLAYS = Counter("imperio_idempotent_replays", "Retried requests answered with their stored first response")
LOGIN_FAILURES = Counter("imperio_login_failures", "Logins refused, by reason", ["reason"])
ACCOUNT_LOCKOUTS = Counter("imperio_account_lockouts", "Accounts locked after too many failed logins")
RATE_LIMIT_REFUSALS = Counter(
    "imperio_rate_limit_refusals", "Requests refused by the app's rate limits, by route pattern", ["endpoint"]
)
DB_POOL_IN_USE = Gauge(
    "imperio_db_pool_connections_in_use", "Database connections checked out of the pool", multiprocess_mode="livesum"
)
DB_POOL_OVERFLOW = Gauge(
    "imperio_db_pool_overflow_connections", "Database connections open beyond the pool size", multiprocess_mode="livesum"
)
REDIS_BREAKER_OPEN = Gauge(
    "imperio_redis_breaker_open",
    "1 while a Redis circuit breaker is open (Redis calls skipped), by breaker",
    ["breaker"],
    multiprocess_mode="livemax",
)
REPLICA_LAG = Gauge(
    "imperio_db_replica_lag_seconds",
    "How far the streaming replica was behind at this service's last check (+Inf: failing or not a replica)",
    multiprocess_mode="livemax",
)
SOCKETS_CONNECTED = Gauge(
    "imperio_socketio_sockets_connected", "Socket.IO sockets connected to this service", multiprocess_mode="livesum"
)
SOCKET_MESSAGES = Counter(
    "imperio_socketio_messages_emitted", "Socket.IO event messages sent to sockets of this service, by event", ["event"]
)
LEADERBOARD_PUSHES = Counter(
    "imperio_leaderboard_pushes", "Coalesced leaderboard_update pushes, by board", ["metric", "timeframe"]
)
# What the alert rules (deployment/prometheus/alerts.yml) need beyond the metrics above.
DATABASE_UNAVAILABLE = Counter(
    "imperio_database_unavailable",
    "Requests answered 503 because the database was out of reach or no pool connection freed up in time, by reason",
    ["reason"],
)
SOCKET_DISCONNECTS = Counter("imperio_socketio_disconnects", "Sockets disconnected from this Socket.IO service")
PUBLISHED_RTP = Gauge(
    "imperio_game_published_rtp",
    "The RTP each game publishes (its engine's PUBLISHED_RTP), by game",
    ["game"],
    multiprocess_mode="max",
)
LEDGER_CHECK_OFFENDERS = Gauge(
    "imperio_ledger_check_offenders",
    "Players whose balance differed from the sum of their ledger rows at the last ledger check",
    multiprocess_mode="mostrecent",
)
ALL = (
    HTTP_REQUESTS,
    HTTP_LATENCY,
    ROUNDS_SETTLED,
    COINS_WAGERED,
    COINS_PAID,
    WALLET_REFUSALS,
    IDEMPOTENT_REPLAYS,
    LOGIN_FAILURES,
    ACCOUNT_LOCKOUTS,
    RATE_LIMIT_REFUSALS,
    DB_POOL_IN_USE,
    DB_POOL_OVERFLOW,
    REDIS_BREAKER_OPEN,
    SOCKETS_CONNECTED,
    SOCKET_MESSAGES,
    LEADERBOARD_PUSHES,
    DATABASE_UNAVAILABLE,
    SOCKET_DISCONNECTS,
    PUBLISHED_RTP,
    LEDGER_CHECK_OFFENDERS,
    REPLICA_LAG,
)
# Label values known before any event, each series exported at 0 from the start: a fresh process
# shows every metric, and a counter's first increase is seen by rate() and increase().
WALLET_REFUSAL_REASONS = ("insufficient_funds", "balance_ceiling")
LOGIN_FAILURE_REASONS = ("invalid_credentials", "locked")
DATABASE_UNAVAILABLE_REASONS = ("unreachable", "pool_exhausted")
RATE_LIMITED_ENDPOINTS = ("/login", "/signup")
BREAKERS = ("cache", "leaderboard_index")
BROADCAST_EVENTS = ("leaderboard_update", "new_notification", "chat_message", "tournament_standings")


def init_app(app):
    """Watch the database pool (`pipeline` registers `count_request`; `create_app` subscribes `on_round_settled`)."""
    from .extensions import db

    with app.app_context():
        _watch_pool(db.engine)


def precreate_series(games, boards):
    """Export every known labelled series at 0, and each game's published RTP.

    `games` maps game names to their engines, `boards` lists (metric, timeframe) pairs.
    """
    for game, engine in games.items():
        for metric in (ROUNDS_SETTLED, COINS_WAGERED, COINS_PAID):
            _labelled(metric, game)
        published = getattr(engine, "PUBLISHED_RTP", None)
        if published is not None:
            PUBLISHED_RTP.labels(game).set(float(published))
    for metric, values in (
        (WALLET_REFUSALS, WALLET_REFUSAL_REASONS),
        (LOGIN_FAILURES, LOGIN_FAILURE_REASONS),
        (DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_REASONS),
        (RATE_LIMIT_REFUSALS, RATE_LIMITED_ENDPOINTS),
        (SOCKET_MESSAGES, BROADCAST_EVENTS),
    ):
        for value in values:
            _labelled(metric, value)
    for name in BREAKERS:
        _labelled(REDIS_BREAKER_OPEN, name)
    for board in boards:
        _labelled(LEADERBOARD_PUSHES, *board)
    # The scrape itself: the request metrics exist before the first request is counted.
    _labelled(HTTP_REQUESTS, "/metrics", "GET", "200")
    _labelled(HTTP_LATENCY, "/metrics", "GET")


def _endpoint():
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ENDPOINT


# The labelled children of the per-request and per-round metrics, by (metric, label values):
# `labels()` checks and converts its values under a lock on every call (~2 us each, five a
# round). These are the very objects the metric keeps for those values, so nothing is held
# here that the metric does not hold itself.
_children = {}


def _labelled(metric, *values):
    """`metric.labels(*values)`, looked up once per label values."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def count_request(response):
    """after_request: count the request and its latency under its route pattern."""
    endpoint, method = _endpoint(), request.method
    _labelled(HTTP_REQUESTS, endpoint, method, str(response.status_code)).inc()
    started = g.get("request_started")
    if started is not None:
        _labelled(HTTP_LATENCY, endpoint, method).observe(perf_counter() - started)
    return response


POOL_GAUGE_INTERVAL = 0.1  # seconds between two publications of the pool gauges under load


class PoolGauges:
    """The pool gauges of one engine, published from its checkouts and checkins.

    Publishing costs two multiprocess-file writes and two locked reads of the pool, and every
    transaction checks a connection out and back in: under load the gauges are published at
    most every `interval` seconds, and at once whenever the last connection in use comes
    back, so an idle pool never shows connections in use. The counts are read from the
    engine's current pool (a pool discarded after a lost connection is replaced).
    """

    def __init__(self, engine, interval=POOL_GAUGE_INTERVAL, clock=monotonic):
        self.engine = engine
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._in_use = 0
        self._published_at = None

    def checked_out(self, *_):
        """Pool event: a connection was checked out."""
        with self._lock:
            self._in_use += 1
            due = self._due()
        if due:
            self.publish()

    def checked_in(self, *_):
        """Pool event: a connection came back."""
        with self._lock:
            self._in_use -= 1
            due = self._due(idle=self._in_use <= 0)
        if due:
            self.publish()

    def _due(self, idle=False):
        now = self.clock()
        if not idle and self._published_at is not None and now - self._published_at < self.interval:
            return False
        self._published_at = now
        return True

    def publish(self):
        """Set the gauges from the pool's own counts."""
        pool = self.engine.pool
        DB_POOL_IN_USE.set(pool.checkedout())
        DB_POOL_OVERFLOW.set(max(pool.overflow(), 0))


def _watch_pool(engine):
    # Only QueuePool (PostgreSQL, SQLite files) knows its checked-out and overflow counts.
    if not hasattr(engine.pool, "checkedout") or not hasattr(engine.pool, "overflow"):
        return
    gauges = PoolGauges(engine)
    event.listen(engine.pool, "checkout", gauges.checked_out)
    event.listen(engine.pool, "checkin", gauges.checked_in)


def on_round_settled(name, payload):
    """Count one settled round with its stake and payout."""
    game = payload["game_type"]
    _labelled(ROUNDS_SETTLED, game).inc()
    if payload["bet"]:
        _labelled(COINS_WAGERED, game).inc(payload["bet"])
    if payload["payout"]:
        _labelled(COINS_PAID, game).inc(payload["payout"])


def count_rate_limited():
    """One request refused by an app rate limit."""
    RATE_LIMIT_REFUSALS.labels(_endpoint()).inc()


def count_database_unavailable(reason):
    """One request answered 503 for the database: `unreachable` or `pool_exhausted`."""
    _labelled(DATABASE_UNAVAILABLE, reason).inc()


def ledger_checked(offenders):
    """A ledger check ran and found `offenders` players whose balance is not their ledger's sum."""
    LEDGER_CHECK_OFFENDERS.set(offenders)


def breaker_changed(name, is_open):
    """A Redis breaker opened or closed."""
    REDIS_BREAKER_OPEN.labels(name).set(1 if is_open else 0)


def replica_checked(lag):
    """The replica was found `lag` seconds behind (None: it failed)."""
    REPLICA_LAG.set(float("inf") if lag is None else lag)


def count_socket_messages(event_name, recipients):
    """`recipients` sockets of this service were sent one `event_name` message each."""
    if recipients:
        SOCKET_MESSAGES.labels(event_name).inc(recipients)


def exposition():
    """(body, content type) of the samples of this service: every worker's when multiprocess."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def family_names():
    """The name of every metric family the app exports."""
    return {family.name for collector in ALL for family in collector.describe()}


def metric_names():
    """Every sample name these metrics expose (counters with _total, histograms with their series)."""
    names = set()
    for collector in ALL:
        for family in collector.describe():
            base = family.name
            if family.type == "counter":
                names |= {base + "_total", base + "_created"}
            elif family.type == "histogram":
                names |= {base + suffix for suffix in ("_bucket", "_count", "_sum", "_created")}
            else:
                names.add(base)
    return names


def _samples(metric_name):
    """Every sample named `metric_name` this service has: all workers' under Gunicorn, else this process's."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    return [sample for family in registry.collect() for sample in family.samples if sample.name == metric_name]


def service_totals():
    """What the operators' dashboard shows of this service: sockets connected, requests answered, 5xx among them."""
    requests = _samples("imperio_http_requests_total")
    return {
        "sockets": int(sum(sample.value for sample in _samples("imperio_socketio_sockets_connected"))),
        "requests": int(sum(sample.value for sample in requests)),
        "server_errors": int(sum(sample.value for sample in requests if sample.labels.get("status", "").startswith("5"))),
    }
