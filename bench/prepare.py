"""Create a clean benchmark database and N players with long-lived tokens.

    python bench/prepare.py --users 256 --tokens bench/results/tokens.txt
    python bench/prepare.py --users 64 --tournament-entrants 1000   # and a running tournament
    python bench/prepare.py --users 64 --keep-data     # add players to a database that has data (bench/year_data.py)

Reads DATABASE_URL (PostgreSQL, or a SQLite file) and REDIS_URL from the environment. Players get their
coins through the ledger like everyone else (a large sign-up bonus). With --tournament-entrants N,
a tournament runs through the whole bench (every game counts, a free entry, a fixed pool) with N
entrants: the players with tokens first, then more players signed up to make up N, so every
round the bench plays is an entrant's round and runs the scoring statement.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.extensions import db, redis_store  # noqa: E402
from imperioApp.services.competitions import entries, tournaments  # noqa: E402
from imperioApp.services.identity import accounts, sessions  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=256)
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    parser.add_argument("--bonus", type=int, default=10_000_000)
    parser.add_argument("--tournament-entrants", type=int, default=0, help="players in a running tournament (0: none)")
    parser.add_argument("--keep-data", action="store_true", help="keep the schema and its rows; add fresh players")
    args = parser.parse_args()

    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
        SIGNUP_BONUS=args.bonus,
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_COST=1024,
        ARGON2_PARALLELISM=1,
    )
    # Players of a kept database are named apart from those of earlier runs.
    prefix = f"bench{int(time.time())}x" if args.keep_data else "bench"
    with app.app_context():
        if not args.keep_data:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                else:  # the embedded default: start from an empty SQLite file
                    for table in reversed(db.metadata.sorted_tables):
                        conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        if redis_store.client is not None:
            redis_store.client.flushdb(asynchronous=True)
        lines, user_ids = [], []
        for n in range(args.users):
            user = accounts.signup(f"{prefix}{n}", f"{prefix}{n}@example.com", "bench-password")
            user_ids.append(user.id)
            session_id, _ = sessions.open_session(user.id, lifetime=timedelta(hours=3), user_agent="bench")
            token = sessions.issue_access_token(
                user.id, session_id, {"username": user.username, "role": "player"}, expires_delta=timedelta(hours=3)
            )
            lines.append(token)
        if args.tournament_entrants:
            running_tournament(user_ids, args.tournament_entrants, prefix)
    Path(args.tokens).parent.mkdir(parents=True, exist_ok=True)
    Path(args.tokens).write_text("\n".join(lines) + "\n")
    print(f"prepared {args.users} players; tokens in {args.tokens}")


def running_tournament(user_ids, entrants, prefix):
    """A tournament running for the next six hours with `entrants` entrants, the bench's players among them."""
    for n in range(len(user_ids), entrants):
        user_ids.append(accounts.signup(f"{prefix}entrant{n}", f"{prefix}entrant{n}@example.com", "bench-password").id)
    now = tournaments.clock()
    definition = tournaments.validate_definition(
        {
            "title": "Bench tournament",
            "metric": "wagered",
            "starts_at": now - timedelta(minutes=1),
            "duration_seconds": 6 * 3600,
            "prize_pool": {"mode": "fixed", "amount": 1000},
            "payouts": [50, 30, 20],
        }
    )
    tournament_id = tournaments.create(definition, created_by=user_ids[0])
    for user_id in user_ids[:entrants]:
        entries.join(user_id, tournament_id)
    print(f"tournament {tournament_id} running with {entrants} entrants")


if __name__ == "__main__":
    main()
