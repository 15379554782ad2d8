"""Cross-cutting HTTP behaviour: error shape, limits, headers, request ids, CORS, rate limits."""

import json
import logging

import pytest


def events(caplog):
    """The structlog event dicts captured from the stdlib loggers."""
    return [r.msg for r in caplog.records if isinstance(r.msg, dict)]


def assert_error(response, status, code=None):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message"} and {"code", "message"} <= set(body["error"])
    assert body["message"] == body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_unknown_path_is_json_404(client):
    assert_error(client.get("/no/such/thing"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    response = client.delete("/login")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


def test_oversized_body_is_json_413(client):
    body = json.dumps({"username": "x" * (70 * 1024), "password": "y"})
    assert_error(client.post("/login", data=body, content_type="application/json"), 413, "payload_too_large")


def test_non_json_body_is_json_415(client):
    # (A form post to /signup, /login or /logout is the browser pages': tests/web.)
    assert_error(
        client.post("/spin", data="bet=1", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"
    )
    assert_error(client.post("/login", data="username=a&password=b", content_type="text/plain"), 415, "unsupported_media_type")


def test_malformed_json_is_json_400(client):
    assert_error(client.post("/login", data="{not json", content_type="application/json"), 400)


def test_unexpected_failures_are_json_500_without_details(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in json.dumps(error)


def test_security_headers_on_every_response(client):
    for response in (client.get("/health"), client.get("/missing")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in headers


def test_a_views_own_policy_headers_are_kept_once(make_app):
    app = make_app()

    @app.get("/own-headers")
    def own_headers():
        return {}, 200, {"Cache-Control": "no-cache", "Content-Security-Policy": "default-src 'self'"}

    client = app.test_client()
    response = client.get("/own-headers", headers={"Authorization": "Bearer x"})
    assert response.headers.getlist("Cache-Control") == ["no-cache"]
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    # A signed-in caller's answers are never cached unless the view says otherwise.
    assert client.get("/missing", headers={"Authorization": "Bearer x"}).headers.getlist("Cache-Control") == ["no-store"]


def test_hsts_only_over_https(client):
    response = client.get("/health", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_request_id_is_generated_or_echoed_and_logged(client, caplog):
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    caplog.set_level(logging.INFO)
    response = client.get("/health", headers={"X-Request-ID": "trace-abc-123"})
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    request_lines = [e for e in events(caplog) if e.get("event") == "request"]
    assert request_lines and request_lines[-1]["request_id"] == "trace-abc-123"
    # An id that could inject into logs is replaced, not echoed.
    assert client.get("/health", headers={"X-Request-ID": "bad id;<x>"}).headers["X-Request-ID"] != "bad id;<x>"


def test_every_log_line_of_a_request_carries_its_id(client, player, caplog):
    caplog.set_level(logging.INFO)
    client.post("/login", json={"username": player.username, "password": "wrong-password"}, headers={"X-Request-ID": "req-42"})
    lines = events(caplog)
    assert {e["event"] for e in lines} >= {"login_failed", "request"}
    assert all(e.get("request_id") == "req-42" for e in lines)


def test_cors_allows_configured_origins_only(make_app):
    app = make_app(CORS_ORIGINS=["https://play.example.com"])
    client = app.test_client()
    allowed = client.get("/health", headers={"Origin": "https://play.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://play.example.com"
    denied = client.get("/health", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_login_is_rate_limited_with_a_json_429(app, client, monkeypatch, player):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    for _ in range(3):
        client.post("/login", json={"username": player.username, "password": player.password})
    response = client.post("/login", json={"username": player.username, "password": player.password})
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_signup_is_rate_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "2 per hour")
    for n in range(2):
        assert (
            client.post(
                "/signup", json={"username": f"user{n}", "email": f"u{n}@example.com", "password": "password123"}
            ).status_code
            == 201
        )
    refused = client.post("/signup", json={"username": "user9", "email": "u9@example.com", "password": "password123"})
    assert_error(refused, 429, "rate_limited")
    # The hour's window, not a fixed minute: a client waiting 65 s would be refused again.
    assert 3500 < int(refused.headers["Retry-After"]) <= 3601


def test_without_a_default_limit_only_limited_routes_consult_the_limiter(app, client, player, monkeypatch):
    from imperioApp.extensions import limiter

    monkeypatch.setitem(app.config, "RATELIMIT_DEFAULT", None)
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "2 per hour")
    resolved = []
    original = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", lambda *a, **k: resolved.append(a) or original(*a, **k))
    assert client.post("/spin", json={"bet": 1}, headers=player.headers).status_code == 200
    assert resolved == []  # the limiter was not consulted at all
    for n in range(2):
        assert (
            client.post(
                "/signup", json={"username": f"user{n}", "email": f"u{n}@example.com", "password": "password123"}
            ).status_code
            == 201
        )
    assert_error(
        client.post("/signup", json={"username": "user9", "email": "u9@example.com", "password": "password123"}),
        429,
        "rate_limited",
    )
    assert resolved  # a route with its own limit still checks it


@pytest.mark.parametrize("path", ["/health", "/health/ready"])
def test_health_probes_are_not_rate_limited(app, client, monkeypatch, path):
    monkeypatch.setitem(app.config, "RATELIMIT_DEFAULT", "2 per minute")
    assert all(client.get(path).status_code == 200 for _ in range(5))


def test_racing_requests_each_parse_their_own_body(app, make_player):
    """One schema instance serves every request of a route: bodies never mix, refusals never stick."""
    import itertools
    import threading

    from tests.api.helpers import assert_ledger_holds
    from tests.concurrency import race

    players = [make_player(balance=100) for _ in range(8)]
    lock, numbers = threading.Lock(), itertools.count()

    def call():
        with lock:
            n = next(numbers)
        body = {"bet": n + 1} if n % 2 == 0 else {"bet": n + 1, "odds": n}
        return n, app.test_client().post("/spin", json=body, headers=players[n].headers)

    for n, response in race(app, len(players), call):
        if n % 2 == 0:
            assert response.status_code == 200, response.get_json()
            assert response.get_json()["bet"] == n + 1
        else:
            error = assert_error(response, 422)
            assert "odds" in json.dumps(error)
    assert_ledger_holds(app)


def test_without_an_allowed_origin_no_response_carries_cors_headers(make_app):
    client = make_app(CORS_ORIGINS=[]).test_client()
    origin = {"Origin": "https://play.example.com"}
    responses = [
        client.get("/health", headers=origin),
        client.options("/spin", headers={**origin, "Access-Control-Request-Method": "POST"}),
    ]
    for response in responses:
        assert [name for name in response.headers.keys() if name.startswith("Access-Control-")] == []


def test_a_limit_checked_in_a_request_still_gets_its_after_request_work(app, make_app):
    """The limiter's after-request hook is skipped only where no limit was checked."""
    from imperioApp.extensions import limiter

    limited_app = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])

    # Counted only when the after-request hook sees the answer (a conditional deduction).
    @limiter.limit("3 per minute", deduct_when=lambda response: response.status_code == 418)
    def teapot():
        return {"brewing": False}, 418

    limited_app.add_url_rule("/teapot", "teapot", teapot)
    client = limited_app.test_client()
    assert [client.get("/teapot").status_code for _ in range(3)] == [418, 418, 418]
    assert_error(client.get("/teapot"), 429, "rate_limited")
    assert client.get("/health").status_code == 200  # no limit checked: nothing to do after it
