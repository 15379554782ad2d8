"""The lobby page and the API docs are served from this host alone, under a strict CSP."""

import re

from imperioApp.http_security import LOBBY_CSP


def test_lobby_page_loads_only_local_scripts_under_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == LOBBY_CSP
    assert "script-src 'self';" in LOBBY_CSP and "unsafe-inline" not in LOBBY_CSP
    # No inline script: every <script> has a src on this host.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assert "http://" not in html and "https://" not in html
    for path in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
        assert client.get(path).status_code == 200, path


def test_socket_io_client_is_pinned_with_its_licence(client):
    script = client.get("/assets/vendor/socket.io-client-4.8.4/socket.io.min.js")
    assert script.status_code == 200
    assert script.get_data(as_text=True).startswith("/*!\n * Socket.IO v4.8.4")
    assert "MIT License" in client.get("/assets/vendor/socket.io-client-4.8.4/LICENSE").get_data(as_text=True)


def test_docs_page_serves_swagger_ui_from_this_host(client):
    response = client.get("/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "cdn" not in html.lower() and "cdn" not in response.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/docs/assets/swagger-ui-bundle.js" in assets
    for path in assets:
        assert path.startswith("/docs/assets/")
        assert client.get(path).status_code == 200, path


def test_docs_assets_refuse_paths_outside_the_bundle(client):
    assert client.get("/docs/assets/../__init__.py").status_code == 404
    assert client.get("/docs/assets/nothing-here.js").status_code == 404
