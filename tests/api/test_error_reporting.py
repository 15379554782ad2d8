"""Error reporting (SENTRY_DSN): off by default; on, a failing request's event reaches the
endpoint with its request id, player id, environment and release, and without a credential."""

import gzip
import json
import queue
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask_jwt_extended import jwt_required

from imperioApp import error_reporting

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60  # seconds: the SDK sends from a background thread, on a loaded machine


class Collector(BaseHTTPRequestHandler):
    """Stores every envelope posted to it, decompressed, and answers 200 as Sentry does."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.received.put((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    """A local HTTP server standing in for Sentry's ingest endpoint; stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    server.received = queue.Queue()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        import sentry_sdk

        # The SDK is process-wide: close it so no later test reports here.
        sentry_sdk.get_client().close(timeout=10)
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()
        thread.join(timeout=DEADLINE)


def events(envelope):
    """The event payloads of one envelope (header line, then item header and payload lines)."""
    lines = [json.loads(line) for line in envelope.splitlines() if line.strip()]
    return [payload for header, payload in zip(lines[1::2], lines[2::2], strict=False) if header.get("type") == "event"]


def test_a_failing_request_reaches_the_endpoint_without_credentials(app, make_app, endpoint):
    reporting = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SENTRY_DSN=f"http://publickey@127.0.0.1:{endpoint.server_port}/42",
        SENTRY_RELEASE="imperio-test-release",
    )

    @reporting.post("/test-only/fails")
    @jwt_required()
    def fails():
        raise RuntimeError("the view failed")

    from tests.factories import make_player

    player = make_player(reporting)
    token = player.headers["Authorization"].removeprefix("Bearer ")
    secrets = {
        "token": token,
        "cookie": "cookie-secret-4f1c",
        "password": "password-secret-9a7e",
        "query": "query-secret-62bd",
    }
    response = reporting.test_client().post(
        f"/test-only/fails?page=2&token={secrets['query']}",
        json={"username": player.username, "password": secrets["password"]},
        headers={
            **player.headers,
            "Cookie": f"imperio_session={secrets['cookie']}",
            "X-Request-ID": "req-error-reporting-1",
        },
    )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"

    path, envelope = endpoint.received.get(timeout=DEADLINE)
    assert path == "/api/42/envelope/"
    for name, secret in secrets.items():
        assert secret not in envelope, name
    (event,) = events(envelope)
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == "req-error-reporting-1"
    assert event["user"] == {"id": str(player.id)}
    assert event["environment"] == "testing"
    assert event["release"] == "imperio-test-release"
    request = event["request"]
    assert "Authorization" not in request.get("headers", {}) or request["headers"]["Authorization"] == "[Filtered]"
    assert "cookies" not in request and "data" not in request
    assert "page=2" in request["query_string"]


def test_reporting_is_off_and_not_imported_without_a_dsn():
    probe = (
        "import os, sys\n"
        "os.environ.pop('SENTRY_DSN', None)\n"
        "from imperioApp import create_app\n"
        "create_app('development', SQLALCHEMY_DATABASE_URI='sqlite://')\n"
        "print('sentry_sdk' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_scrubbing_filters_credentials_wherever_they_are():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    event = {
        "request": {
            "url": f"http://localhost/spin?token={jwt}",
            "query_string": f"access_token={jwt}&page=1",
            "headers": {"Authorization": f"Bearer {jwt}", "X-Csrf-Token": "csrf-value", "Accept": "*/*"},
            "cookies": {"session": "cookie-value"},
            "data": {"password": "pw-value"},
        },
        "extra": {"refresh_token": "refresh-value", "note": f"sent {jwt} once", "nested": [{"new_password": "pw2"}]},
        "breadcrumbs": {"values": [{"message": f"Authorization: Bearer {jwt}"}]},
        "modules": {"pyjwt": "2.15.1"},
    }
    scrubbed = json.dumps(error_reporting.scrub_event(event, {}))
    for secret in (jwt, "csrf-value", "cookie-value", "pw-value", "refresh-value", "pw2"):
        assert secret not in scrubbed, secret
    assert '"page=1"' not in scrubbed and "page=1" in scrubbed
    assert '"pyjwt": "2.15.1"' in scrubbed
    assert '"Accept": "*/*"' in scrubbed


def test_the_release_is_the_checked_out_commit():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert error_reporting.checkout_release(ROOT) == head.stdout.strip()
