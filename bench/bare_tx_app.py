"""The reference for settlement speed: a bare money transaction on the same stack.

    DATABASE_URL=postgresql://... GUNICORN_BIND=127.0.0.1:5012 \
      gunicorn -c deployment/gunicorn_config.py bench.bare_tx_app:app   # ROUND=bare in bench/games.lua

A minimal Flask app doing, per request and for the player named in the path, what the
smallest honest bet does: `UPDATE users SET balance = balance - bet + win WHERE id = :id AND
balance >= :bet RETURNING balance`, one two-row ledger INSERT (the bet and the win, each
with the balance it left), COMMIT; psycopg2 directly, a fixed pool of connections per
worker, no ORM, no auth, no validation. The project's rounds are measured against it.
"""

import json
import os
import random
from datetime import datetime, timezone

import psycopg2
from flask import Flask
from gevent.queue import Queue
from psycogreen.gevent import patch_psycopg

patch_psycopg()

DSN = os.environ["DATABASE_URL"]
POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "8"))
app = Flask(__name__)
_pool = Queue()
for _ in range(POOL_SIZE):
    _pool.put(psycopg2.connect(DSN))

MOVE = "UPDATE users SET balance = balance - %(bet)s + %(win)s WHERE id = %(user)s AND balance >= %(bet)s RETURNING balance"
LEDGER = (
    "INSERT INTO transactions (user_id, type, amount, balance_after, game_type, created_at) VALUES "
    "(%(user)s, 'bet', -%(bet)s, %(after_bet)s, 'slots', %(now)s), (%(user)s, 'win', %(win)s, %(after)s, 'slots', %(now)s)"
)


@app.post("/bet/<int:user_id>")
def bet(user_id):
    """Stake one coin and win one or two back, in one transaction."""
    params = {"user": user_id, "bet": 1, "win": random.choice((1, 2)), "now": datetime.now(timezone.utc)}
    conn = _pool.get()
    try:
        with conn.cursor() as cursor:
            cursor.execute(MOVE, params)
            row = cursor.fetchone()
            if row is None:
                conn.rollback()
                return {"error": {"code": "insufficient_funds", "message": "no coins"}}, 409
            params["after"] = row[0]
            params["after_bet"] = row[0] - params["win"]
            cursor.execute(LEDGER, params)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        _pool.put(conn)
    return app.response_class(json.dumps({"balance": params["after"]}), mimetype="application/json")
