"""Create a clean benchmark database and N players with long-lived tokens.

    python bench/prepare.py --users 256 --tokens bench/results/tokens.txt
    python bench/prepare.py --users 64 --keep-data     # add players to a database that has data (bench/year_data.py)

Reads DATABASE_URL (PostgreSQL, or a SQLite file) and REDIS_URL from the environment. Players get their
coins through the ledger like everyone else (a large sign-up bonus).
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
from imperioApp.services.identity import accounts, sessions  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=256)
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    parser.add_argument("--bonus", type=int, default=10_000_000)
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
        lines = []
        for n in range(args.users):
            user = accounts.signup(f"{prefix}{n}", f"{prefix}{n}@example.com", "bench-password")
            session_id, _ = sessions.open_session(user.id, lifetime=timedelta(hours=3), user_agent="bench")
            token = sessions.issue_access_token(
                user.id, session_id, {"username": user.username, "role": "player"}, expires_delta=timedelta(hours=3)
            )
            lines.append(token)
    Path(args.tokens).parent.mkdir(parents=True, exist_ok=True)
    Path(args.tokens).write_text("\n".join(lines) + "\n")
    print(f"prepared {args.users} players; tokens in {args.tokens}")


if __name__ == "__main__":
    main()
