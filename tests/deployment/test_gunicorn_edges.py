"""What the production server answers at the edges HTTP parsing reaches before the app's views."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('gunicorn') / 'unused.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "LOG_LEVEL": "warning",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deployment/gunicorn_config.py", "imperioApp.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(url + "/health", timeout=0.5).status_code == 200:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def exchange(port, raw):
    """Send raw bytes, return (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_a_long_header_field_is_a_json_431(server):
    status, headers, body = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8200 + b"\r\nConnection: close\r\n\r\n")
    assert status == 431 and headers["content-type"] == "application/json"
    assert b'"request_header_fields_too_large"' in body


def test_a_chunked_body_over_the_limit_is_a_json_413(server):
    body = b'{"username": "' + b"a" * 70_000 + b'", "password": "x"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8000]), body[i:i + 8000]) for i in range(0, len(body), 8000))
    request = (
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    status, headers, answer = exchange(server, request)
    assert status == 413 and headers["content-type"] == "application/json"
    assert b'"payload_too_large"' in answer


def test_forwarded_proto_from_loopback_is_not_believed_without_trust_proxy_headers(server):
    status, headers, _ = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert "strict-transport-security" not in headers
