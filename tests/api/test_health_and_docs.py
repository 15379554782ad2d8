"""Health probes and the OpenAPI description."""

import re


def test_liveness(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_readiness_reports_each_dependency(app, client):
    body = client.get("/health/ready").get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if app.config["REDIS_URL"] else "not_configured")


def test_readiness_is_503_when_the_database_is_down(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "down"


def test_readiness_is_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.2)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "down", "replica": "not_configured"},
    }


class FakeReplica:
    def __init__(self, usable, lag):
        self._usable, self.lag = usable, lag

    def usable(self):
        return self._usable


def test_readiness_reports_the_replica_but_stays_ready_without_it(client, monkeypatch):
    from imperioApp.adapters import replica

    assert client.get("/health/ready").get_json()["checks"]["replica"] == "not_configured"
    for usable, lag, status in ((True, 0.1, "ok"), (False, 7.5, "lagging"), (False, None, "unreachable")):
        monkeypatch.setattr(replica, "current", lambda usable=usable, lag=lag: FakeReplica(usable, lag))
        response = client.get("/health/ready")
        assert response.status_code == 200, status
        assert response.get_json()["checks"]["replica"] == status


def test_every_route_is_described_in_openapi(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    undocumented = []
    for rule in app.url_map.iter_rules():
        # The browser pages (imperioApp/web) are HTML, not part of the JSON API.
        if rule.endpoint in ("static",) or rule.endpoint.startswith(
            ("api-docs.", "pages.", "lobby.", "docs_assets.", "admin_console.")
        ):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in spec["paths"].get(path, {}):
                undocumented.append(f"{method} {path}")
    assert not undocumented, undocumented


def test_openapi_documents_the_error_shape_and_bearer_auth(client):
    spec = client.get("/openapi.json").get_json()
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]
    assert spec["paths"]["/login"]["post"]["security"] == []


def test_interactive_docs_page(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def test_every_method_a_documented_path_answers_is_documented_and_the_rest_are_405(client):
    """GET /login renders a page, a form post to it is the page's: the document says both; PUT is 405."""
    spec = client.get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in HTTP_METHODS:
            if method in operations:
                continue
            response = client.open(url, method=method.upper())
            assert response.status_code == 405, f"{method.upper()} {path} answers {response.status_code}, undocumented"
            assert response.get_json()["error"]["code"] == "method_not_allowed"
            documented = {name.upper() for name in operations if name in HTTP_METHODS}
            assert documented <= set(response.headers["Allow"].split(", ")), path


def test_the_pages_form_posts_are_documented_with_their_html_answers(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/signup", "/login", "/logout"):
        assert spec["paths"][path]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
        post = spec["paths"][path]["post"]
        form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert "csrf_token" in form["required"]
        assert "text/html" in post["responses"]["403"]["content"]
    # A form post without the page's token is answered as documented: 403 in HTML, nothing written.
    response = client.post("/signup", data={"username": "formless", "email": "f@example.com", "password": "x" * 12})
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert client.post("/login", json={"username": "formless", "password": "x" * 12}).status_code == 401
