"""Statements and Redis traffic per round of each game endpoint, counted in-process.

    DATABASE_URL=postgresql://... python bench/round_costs.py --rounds 200

Runs the production app (PostgreSQL from DATABASE_URL, a private redis-server started on a
free port for the count and stopped after) under Flask's test client, for players signed
up by bench/prepare.py. Counts the SQL statements sent (through SQLAlchemy and on the
driver directly), the Redis round trips written by the app, and the commands Redis
executed (INFO commandstats of the private server, Lua scripts' inner commands included).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from redis.connection import AbstractConnection  # noqa: E402
from sqlalchemy import event  # noqa: E402

ENDPOINTS = {
    "/spin": {"bet": 1},
    "/roulette/spin": {"bets": [{"type": "red", "amount": 2}, {"type": "straight", "numbers": [17], "amount": 1}]},
    "/blackjack/start + stand": {"wager": 2},
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def private_redis():
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        server.terminate()
        server.wait(timeout=10)


def commands(client):
    stats = client.info("commandstats")
    return sum(value["calls"] for name, value in stats.items() if name not in ("cmdstat_info", "cmdstat_config|resetstat"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    args = parser.parse_args()
    tokens = [t for t in Path(args.tokens).read_text().split() if t]
    with private_redis() as (redis_url, server):
        os.environ["REDIS_URL"] = redis_url
        os.environ.pop("RATELIMIT_DEFAULT", None)
        from imperioApp import create_app
        from imperioApp.adapters import driver
        from imperioApp.extensions import db
        from imperioApp.realtime import stop_background_tasks
        from imperioApp.services.engagement import board_pushes

        app = create_app("production", LOG_LEVEL="WARNING")
        client = app.test_client()
        counts = {"sql": 0, "trips": 0}
        me = threading.get_ident()

        def on_sql(*_):
            if threading.get_ident() == me:
                counts["sql"] += 1

        original = AbstractConnection.send_packed_command

        def send(self, command, check_health=True):
            if not counts.get("paused"):
                counts["trips"] += 1
            return original(self, command, check_health)

        def executed_so_far():
            counts["paused"] = True
            try:
                return commands(server)
            finally:
                counts["paused"] = False

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", on_sql)
        driver.listeners.append(on_sql)
        AbstractConnection.send_packed_command = send
        report = {}
        for name, body in ENDPOINTS.items():
            for warm in (True, False):
                counts.update(sql=0, trips=0)
                before = executed_so_far()
                rounds = 20 if warm else args.rounds
                for n in range(rounds):
                    headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                    if name.startswith("/blackjack"):
                        state = client.post("/blackjack/start", json=body, headers=headers).get_json()
                        if not state["game_over"]:
                            client.post("/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=headers)
                    else:
                        assert client.post(name, json=body, headers=headers).status_code == 200
                assert board_pushes.flush(app)  # the lingering index writes of these rounds count here
                trips = counts["trips"]
                executed = executed_so_far() - before
                if not warm:
                    report[name] = {
                        "sql_statements_per_round": round(counts["sql"] / rounds, 2),
                        "redis_round_trips_per_round": round(trips / rounds, 2),
                        "redis_commands_per_round": round(executed / rounds, 2),
                    }
        AbstractConnection.send_packed_command = original
        stop_background_tasks(app)  # before the private redis-server stops
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
