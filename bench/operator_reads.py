"""Time the operators' reads on a seeded PostgreSQL database.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_engagement .venv/bin/python bench/seed_engagement.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_engagement .venv/bin/python bench/operator_reads.py

Makes player 1 an admin, then times finding players, a player's page, the RTP report over
all time and the last day, the biggest wins and the ledger invariant check (which appends
one audit row per run).
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text, update  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.extensions import db  # noqa: E402
from imperioApp.models import User  # noqa: E402
from imperioApp.models.base import utcnow  # noqa: E402
from imperioApp.services.operators import actions  # noqa: E402
from imperioApp.services.operators.audit import Operator  # noqa: E402


def timed(call, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main():
    app = create_app("development", SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"])
    with app.app_context():
        db.session.execute(update(User).where(User.id == 1).values(role="admin"))
        db.session.commit()
        users, ledger, rounds = db.session.execute(
            text("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM transactions), (SELECT count(*) FROM game_rounds)")
        ).one()
        print(f"{users:,} players, {ledger:,} ledger rows, {rounds:,} rounds")
        operator = Operator(1, "bench")
        middle = users // 2
        day_ago = utcnow() - timedelta(days=1)
        cases = [
            ("find players by name", lambda: actions.find_players(operator, "player12"), 20),
            ("find players by id", lambda: actions.find_players(operator, str(middle)), 20),
            ("one player's page", lambda: actions.player(operator, middle), 20),
            ("RTP, all time", lambda: actions.game_rtp(operator), 3),
            ("RTP, last 24 h", lambda: actions.game_rtp(operator, day_ago), 3),
            ("biggest wins, all time", lambda: actions.biggest_wins(operator), 3),
            ("ledger invariant check", lambda: actions.check_ledger(operator), 3),
        ]
        for name, call, runs in cases:
            median, worst = timed(call, runs)
            print(f"  {name:26s} median {median:8.1f} ms   max {worst:8.1f} ms   ({runs} runs)")


if __name__ == "__main__":
    main()
