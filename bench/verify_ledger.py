"""Check the ledger invariant for every player and count settled rounds.

python bench/verify_ledger.py          # exit status 1 on any drift
"""

import os
import sys

from sqlalchemy import create_engine, text

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from config import normalise_database_url  # noqa: E402


def main():
    engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
    with engine.connect() as conn:
        drift = conn.execute(
            text("""
            SELECT u.id, u.balance, COALESCE(SUM(t.amount), 0) AS ledger
            FROM users u LEFT JOIN transactions t ON t.user_id = u.id
            GROUP BY u.id, u.balance HAVING u.balance <> COALESCE(SUM(t.amount), 0)
        """)
        ).all()
        broken_chain = conn.execute(
            text("""
            SELECT count(*) FROM (
              SELECT balance_after, SUM(amount) OVER (PARTITION BY user_id ORDER BY id) AS running
              FROM transactions) s
            WHERE balance_after <> running
        """)
        ).scalar_one()
        users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        rounds = dict(conn.execute(text("SELECT status, count(*) FROM game_rounds GROUP BY status")).all())
        ledger_rows = conn.execute(text("SELECT count(*) FROM transactions")).scalar_one()
    print(f"users={users} ledger_rows={ledger_rows} rounds={rounds}")
    print(f"users whose balance != sum(ledger): {len(drift)}; ledger rows with a broken balance_after chain: {broken_chain}")
    if drift or broken_chain:
        print("LEDGER DRIFT", drift[:10])
        sys.exit(1)
    print("ledger invariant holds for every player")


if __name__ == "__main__":
    main()
