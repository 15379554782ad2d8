"""What the production server answers at the edges HTTP parsing reaches before the app's views."""

import socket

import pytest

from tests.processes import free_port, production_env, running_gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('gunicorn') / 'unused.db'}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        LOG_LEVEL="warning",
    )
    env.pop("REDIS_URL", None)
    with running_gunicorn("gunicorn_config.py", env, port, tmp_path_factory.mktemp("log") / "server.log"):
        yield port


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
    status, headers, body = exchange(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8200 + b"\r\nConnection: close\r\n\r\n"
    )
    assert status == 431 and headers["content-type"] == "application/json"
    assert b'"request_header_fields_too_large"' in body


def test_a_chunked_body_over_the_limit_is_a_json_413(server):
    body = b'{"username": "' + b"a" * 70_000 + b'", "password": "x"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 8000]), body[i : i + 8000]) for i in range(0, len(body), 8000))
    request = (
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    status, headers, answer = exchange(server, request)
    assert status == 413 and headers["content-type"] == "application/json"
    assert b'"payload_too_large"' in answer


def test_forwarded_proto_from_loopback_is_not_believed_without_trust_proxy_headers(server):
    status, headers, _ = exchange(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
    )
    assert status == 200
    assert "strict-transport-security" not in headers
