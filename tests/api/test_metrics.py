"""Prometheus metrics at /metrics: the values after a few rounds, and who may read them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from imperioApp import metrics
from imperioApp.adapters import breaker

from .helpers import assert_error

DASHBOARD = Path(__file__).resolve().parents[2] / "deployment" / "grafana" / "imperio-dashboard.json"


def scrape(client):
    """{(sample name, frozenset(labels)): value} of one /metrics answer."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_rounds_coins_and_requests_are_counted(client, player):
    before = scrape(client)
    bets = [3, 1, 7]
    payouts = []
    for bet in bets:
        body = client.post("/spin", json={"bet": bet}, headers=player.headers).get_json()
        payouts.append(body["payout"])
    roulette = client.post("/roulette/spin", json={"bets": [{"type": "red", "amount": 4}]}, headers=player.headers).get_json()
    after = scrape(client)

    assert delta(before, after, "imperio_rounds_settled_total", game="slots") == 3
    assert delta(before, after, "imperio_coins_wagered_total", game="slots") == sum(bets)
    assert delta(before, after, "imperio_coins_paid_total", game="slots") == sum(payouts)
    assert delta(before, after, "imperio_coins_wagered_total", game="roulette") == 4
    assert delta(before, after, "imperio_coins_paid_total", game="roulette") == roulette["total_win"]
    assert delta(before, after, "imperio_http_requests_total", endpoint="/spin", method="POST", status="200") == 3
    assert delta(before, after, "imperio_http_request_duration_seconds_count", endpoint="/spin", method="POST") == 3
    # The scrape before this one was itself counted.
    assert delta(before, after, "imperio_http_requests_total", endpoint="/metrics", method="GET", status="200") == 1


def test_refusals_replays_and_login_failures_are_counted(app, client, make_player):
    poor = make_player(balance=2)
    before = scrape(client)
    assert_error(client.post("/spin", json={"bet": 5}, headers=poor.headers), 409)
    headers = {**poor.headers, "Idempotency-Key": "metrics-replay"}
    client.post("/spin", json={"bet": 1}, headers=headers)
    client.post("/spin", json={"bet": 1}, headers=headers)
    client.post("/login", json={"username": poor.username, "password": "wrong-password-1"})
    client.get("/no-such-page")
    after = scrape(client)
    assert delta(before, after, "imperio_wallet_refusals_total", reason="insufficient_funds") == 1
    assert delta(before, after, "imperio_idempotent_replays_total") == 1
    assert delta(before, after, "imperio_login_failures_total", reason="invalid_credentials") == 1
    # Unknown paths share one label value: a scanner cannot blow up the series count.
    assert delta(before, after, "imperio_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1


def test_lockouts_and_rate_limit_refusals_are_counted(app, make_app):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_MAX_FAILURES=2, RATELIMIT_LOGIN="3 per minute"
    )
    client = app.test_client()
    from tests.factories import make_player

    victim = make_player(app, username="lockme")
    before = scrape(client)
    statuses = [
        client.post("/login", json={"username": victim.username, "password": "nope-nope-nope"}).status_code for _ in range(4)
    ]
    after = scrape(client)
    assert statuses == [401, 401, 429, 429]
    assert delta(before, after, "imperio_account_lockouts_total") == 1
    assert delta(before, after, "imperio_login_failures_total", reason="locked") == 1
    assert delta(before, after, "imperio_rate_limit_refusals_total", endpoint="/login") == 1


def test_breaker_state_is_a_gauge(app, client):
    with app.app_context():
        breaker.trip("metrics-test")
        assert value(scrape(client), "imperio_redis_breaker_open", breaker="metrics-test") == 1
        breaker.reset("metrics-test")
        assert value(scrape(client), "imperio_redis_breaker_open", breaker="metrics-test") == 0


def test_pool_gauges_follow_checkouts(app, client):
    samples = scrape(client)
    assert ("imperio_db_pool_connections_in_use", frozenset()) in samples
    assert value(samples, "imperio_db_pool_overflow_connections") >= 0


def test_metrics_are_refused_through_a_proxy(client):
    assert_error(client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}), 403, "forbidden")
    assert_error(client.get("/metrics", headers={"X-Real-IP": "203.0.113.9"}), 403, "forbidden")


def dashboard_expressions():
    document = json.loads(DASHBOARD.read_text())
    panels = list(document["panels"])
    for panel in list(panels):
        panels.extend(panel.get("panels", []))
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_the_dashboard_graphs_only_metrics_that_exist():
    expressions = dashboard_expressions()
    assert len(expressions) >= 10
    known = metrics.metric_names()
    used = {name for expr in expressions for name in re.findall(r"\bimperio_\w+", expr)}
    assert used and used <= known, sorted(used - known)
    # Every metric the app exports is on the dashboard.
    families = {
        name.removesuffix(suffix) for name in used for suffix in ("_total", "_bucket", "_count", "_sum") if name.endswith(suffix)
    } | used
    declared = metrics.family_names()
    assert declared <= families, sorted(declared - families)


@pytest.mark.parametrize("name", sorted(metrics.family_names()))
def test_every_metric_is_explained_in_the_operations_guide(name):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    assert f"`{name}" in guide, name


class _Pool:
    def __init__(self):
        self.out = 0

    def checkedout(self):
        return self.out

    def overflow(self):
        return -5


def test_pool_gauges_are_published_at_most_every_interval_and_at_once_when_idle():
    from types import SimpleNamespace

    from imperioApp import metrics

    now = [1000.0]
    engine = SimpleNamespace(pool=_Pool())
    gauges = metrics.PoolGauges(engine, interval=0.1, clock=lambda: now[0])

    def shown():
        return metrics.DB_POOL_IN_USE._value.get()

    def check_out():
        engine.pool.out += 1
        gauges.checked_out()

    def check_in():
        engine.pool.out -= 1
        gauges.checked_in()

    check_out()
    assert shown() == 1  # the first event publishes
    check_out()
    check_out()
    assert shown() == 1  # within the interval: not again
    now[0] += 0.1
    check_in()
    assert shown() == 2 and metrics.DB_POOL_OVERFLOW._value.get() == 0
    check_in()
    assert shown() == 2
    check_in()
    assert shown() == 0  # the last one back: published at once, whatever the interval
    engine.pool = _Pool()  # the engine replaced its pool after a lost connection
    engine.pool.out = 1
    gauges.checked_out()
    now[0] += 0.1
    gauges.checked_out()
    assert shown() == 1  # read from the engine's current pool


def documented_metrics():
    """The metric names of the operations guide's table."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    return re.findall(r"^\| `(imperio_\w+)` \|", guide, flags=re.MULTILINE)


def test_a_fresh_process_exposes_every_documented_metric():
    probe = (
        "from imperioApp import create_app\n"
        "app = create_app('testing', SQLALCHEMY_DATABASE_URI='sqlite://')\n"
        "body = app.test_client().get('/metrics').get_data(as_text=True)\n"
        "print('--- metrics'); print(body)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Log lines (stdout too) come before the marker.
    body = result.stdout.split("--- metrics\n", 1)[1]
    samples = {sample.name for family in text_string_to_metric_families(body) for sample in family.samples}
    documented = documented_metrics()
    assert len(documented) == len(metrics.family_names())
    missing = [name for name in documented if not any(s == name or s.startswith(name + "_") for s in samples)]
    assert not missing, missing


def test_database_refusals_are_counted_by_reason(client, player, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from imperioApp.services.money import fairness

    def fails_with(error):
        def draw(user_id):
            raise error

        monkeypatch.setattr(fairness, "draw", draw)
        assert client.post("/spin", json={"bet": 1}, headers=player.headers).status_code == 503

    before = scrape(client)
    fails_with(PoolTimeout("QueuePool limit reached, connection timed out"))
    fails_with(OperationalError("SELECT 1", {}, Exception("connection refused")))
    after = scrape(client)
    assert delta(before, after, "imperio_database_unavailable_total", reason="pool_exhausted") == 1
    assert delta(before, after, "imperio_database_unavailable_total", reason="unreachable") == 1


def test_socket_disconnects_are_counted(app, client):
    from imperioApp.extensions import socketio

    before = scrape(client)
    socket = socketio.test_client(app)
    assert socket.is_connected()
    socket.disconnect()
    after = scrape(client)
    assert delta(before, after, "imperio_socketio_disconnects_total") == 1
    assert delta(before, after, "imperio_socketio_sockets_connected") == 0
