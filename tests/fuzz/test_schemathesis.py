"""Schemathesis over /openapi.json against the production server (Gunicorn, PostgreSQL, Redis).

Bounded in time, every phase including stateful sequences along the document's links, a
real login's bearer token. Passes only with no 5xx, no response off the document, and no
request the document calls valid refused as malformed.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.processes import ROOT, free_port, production_env, running_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The server's and the hooks' table limit (the hooks excuse spins refused only for their total).
ROULETTE_MAX_TOTAL_BET = "1000"
MAX_SECONDS = int(os.environ.get("FUZZ_MAX_SECONDS", "90"))
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,positive_data_acceptance,"
    "unsupported_method"
)


@pytest.fixture
def server(app, tmp_path):
    port = free_port()
    env = production_env(
        DATABASE_URL=os.environ["TEST_DATABASE_URL"],
        REDIS_URL=os.environ["TEST_REDIS_URL"],
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        LOG_LEVEL="error",
        # The fuzzer is one client hammering every endpoint: limits would refuse it, not test it.
        RATELIMIT_LOGIN="100000 per minute",
        RATELIMIT_SIGNUP="100000 per minute",
        LOGIN_MAX_FAILURES="100000",
        LOGIN_ACCOUNT_MAX_FAILURES="100000",
        CHAT_RATE_LIMIT="100000",
        ROULETTE_MAX_TOTAL_BET=ROULETTE_MAX_TOTAL_BET,
    )
    with running_gunicorn("gunicorn_config.py", env, port, tmp_path / "server.log") as url:
        yield url


def test_schemathesis_finds_no_server_error_no_off_schema_answer_and_no_valid_request_refused(server, tmp_path):
    username, password = "fuzz_player", secrets.token_urlsafe(16)
    body = {"username": username, "email": "fuzz@example.com", "password": password}
    assert requests.post(server + "/signup", json=body, timeout=10).status_code == 201
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        server + "/openapi.json",
        "--checks",
        CHECKS,
        "--max-time",
        str(MAX_SECONDS),
        "--workers",
        "1",
        "--exclude-deprecated",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "15",
        "--seed",
        os.environ.get("FUZZ_SEED", "1"),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.schemathesis_hooks",
        "FUZZ_URL": server,
        "FUZZ_USERNAME": username,
        "FUZZ_PASSWORD": password,
        "FUZZ_ROULETTE_MAX_TOTAL_BET": ROULETTE_MAX_TOTAL_BET,
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=MAX_SECONDS * 3 + 120)
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
