"""The ledger invariant the suite checks after every test: balance == SUM(ledger), chain unbroken."""

from sqlalchemy import text


def ledger_drift(connection):
    """Users whose balance differs from the sum of their ledger, or whose ledger chain breaks."""
    problems = []
    balances = dict(connection.execute(text("SELECT id, balance FROM users")).all())
    running = dict.fromkeys(balances, 0)
    for user_id, amount, after in connection.execute(
        text("SELECT user_id, amount, balance_after FROM transactions ORDER BY user_id, id")
    ):
        running[user_id] += amount
        if running[user_id] != after:
            problems.append((user_id, "balance_after", after, running[user_id]))
    problems += [(uid, "balance", bal, running[uid]) for uid, bal in balances.items() if bal != running[uid]]
    return problems
