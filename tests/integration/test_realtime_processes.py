"""Two real Socket.IO services (Gunicorn, gevent worker, deployment/gunicorn_socketio.py)
sharing PostgreSQL and Redis: what happens on one reaches sockets connected to the other."""

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests.processes import free_port, stop, wait_healthy

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


class Server:
    """One Socket.IO service process on its own port."""

    def __init__(self, env, port):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deployment/gunicorn_socketio.py", "imperioApp.wsgi:app"],
            cwd=ROOT,
            env={**env, "SOCKETIO_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, deadline):
        wait_healthy(self.process, self.url, deadline)

    def stop(self):
        stop(self.process)

    def player(self, name):
        """Sign up and log in through this server's REST API; return (username, token)."""
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert requests.post(self.url + "/signup", json=body, timeout=10).status_code == 201
        tokens = requests.post(self.url + "/login", json={"username": name, "password": PASSWORD}, timeout=10).json()
        return name, tokens["access_token"]


class Listener:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url, token, **client_options):
        self.events = []
        self.changed = threading.Condition()
        self.client = socketio.Client(**{"reconnection": False, **client_options})
        self.client.on("*", self._record)
        self.client.on("connect", lambda: self._record("connect", None))
        self.client.on("disconnect", lambda *args: self._record("disconnect", None))
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
        self.wait_for("authenticated")

    def _record(self, event, data=None):
        with self.changed:
            self.events.append((event, data))
            self.changed.notify_all()

    def wait_for(self, event, match=lambda data: True, timeout=30, since=0):
        """The first `event` matching `match` among the events from index `since` on."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for name, data in self.events[since:]:
                    if name == event and match(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event} within {timeout}s; got {[n for n, _ in self.events]}")
                self.changed.wait(remaining)

    def call(self, event, data):
        return self.client.call(event, data, timeout=10)

    def close(self):
        if self.client.connected:
            self.client.disconnect()


def production_environment(base=None, **overrides):
    """A production process's environment on the test database and Redis, made quick to test:
    cheap password hashing, big wins from 1 coin, fast leaderboard pushes, generous app limits."""
    return {
        **(os.environ if base is None else base),
        "APP_ENV": "production",
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "BIG_WIN_THRESHOLD": "1",
        "LEADERBOARD_PUSH_INTERVAL": "0.2",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        "RATELIMIT_LOGIN": "1000 per minute",
        "RATELIMIT_SIGNUP": "1000 per minute",
        "LOG_LEVEL": "warning",
        # Pub/sub channels span Redis databases: keep other runs' emits and disconnects out.
        "SOCKETIO_CHANNEL": f"imperio-socketio-test-{secrets.token_hex(4)}",
        **overrides,
    }


@pytest.fixture
def servers(app):
    """Processes A and B on free ports, sharing the test database and Redis."""
    env = production_environment()
    started = [Server(env, free_port()), Server(env, free_port())]
    try:
        deadline = time.monotonic() + 90
        for server in started:
            server.wait_ready(deadline)
        yield started
    finally:
        for server in started:
            server.stop()


def test_rounds_rooms_and_logouts_cross_processes(servers):
    a, b = servers
    winner, winner_token = a.player("winner")
    watcher, watcher_token = b.player("watcher")
    on_b = Listener(b.url, watcher_token)
    on_a = Listener(a.url, winner_token)
    try:
        on_b.call("join_leaderboard", {"metric": "games_played", "timeframe": "all_time"})

        # A big win settled through A's REST API is announced to B's socket.
        headers = {"Authorization": f"Bearer {winner_token}"}
        for _ in range(200):
            spin = requests.post(a.url + "/spin", json={"bet": 2}, headers=headers, timeout=10).json()
            if spin["payout"] > 2:
                break
        else:
            pytest.fail("no win in 200 spins")
        announced = on_b.wait_for("big_win_announcement")
        assert announced == {"username": winner, "amount": spin["payout"] - 2, "game_type": "slots"}
        board = on_b.wait_for(
            "leaderboard_update",
            lambda data: any(row["username"] == winner for row in data["leaderboard"]),
        )
        assert board["metric"] == "games_played" and board["timeframe"] == "all_time"

        # Two players on different processes in one room see each other join and leave.
        room = on_a.call("create_multiplayer_room", {"game_type": "roulette", "max_players": 2})
        joined = on_b.call("join_multiplayer_room", {"room_id": room["room_id"]})
        assert joined["players"] == [winner, watcher]
        seen_on_a = on_a.wait_for("player_joined")
        assert seen_on_a == {"room_id": room["room_id"], "username": watcher, "players": [winner, watcher]}
        on_b.call("leave_multiplayer_room", {"room_id": room["room_id"]})
        assert on_a.wait_for("player_left")["players"] == [winner]

        # Logging out through A disconnects the user's socket held by B.
        watcher_headers = {"Authorization": f"Bearer {watcher_token}"}
        assert requests.post(a.url + "/logout", headers=watcher_headers, timeout=10).status_code in (200, 204)
        on_b.wait_for("disconnect")
        assert on_a.client.connected
    finally:
        on_a.close()
        on_b.close()
