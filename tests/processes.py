"""Server processes for tests: a free port, a production environment, waiting until one answers /health, stopping it."""

import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(process, url, deadline):
    """Wait (until the monotonic `deadline`) for `url`/health to answer 200; raise if the process dies."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read().decode()[-2000:] if process.stderr else "(see its log)"
            raise RuntimeError(f"server exited: {output}")
        try:
            if requests.get(url + "/health", timeout=0.5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready")


def stop(process):
    """Terminate the process, killing it if it does not exit within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def production_env(**overrides):
    """APP_ENV=production with fresh secrets and cheap password hashing, plus `overrides`."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        **overrides,
    }


@contextmanager
def running_gunicorn(config, env, port, log_path, ready_seconds=60):
    """Serve imperioApp.wsgi:app with deployment/<config> on `port`, logging to `log_path`; yield its URL once healthy."""
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", f"deployment/{config}", "imperioApp.wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_healthy(process, url, time.monotonic() + ready_seconds)
        yield url
    finally:
        stop(process)
