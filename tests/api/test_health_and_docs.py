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
    assert response.get_json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "down"}}


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
