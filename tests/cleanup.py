"""The clean-up between tests: the ledger checked, then every table emptied, in one transaction."""

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from imperioApp.extensions import db as _db
from tests.ledger import ledger_drift

# Reference data the migrations seed (the achievement catalogue) outlives every test.
PRESERVED_TABLES = frozenset({"achievements"})


def clean_tables(connection):
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in PRESERVED_TABLES]
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            connection.execute(table.delete())


# Services a test runs in other processes (the deployment tests' Gunicorn workers) keep
# reading between tests: a leaderboard push joins its tables in another order than TRUNCATE
# locks them, and PostgreSQL breaks the deadlock by aborting one side. When that side is
# the clean-up, it is run again (the other side is a background read, logged and dropped).
CLEANUP_ATTEMPTS = 5
DEADLOCK_DETECTED = "40P01"


def _check_and_clean_once(engine):
    with engine.begin() as conn:
        drift = ledger_drift(conn)
        clean_tables(conn)
    return drift


def check_and_clean(engine, attempts=CLEANUP_ATTEMPTS):
    """The ledger drift of every user, then every table emptied, in one transaction."""
    for _ in range(attempts - 1):
        try:
            return _check_and_clean_once(engine)
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) != DEADLOCK_DETECTED:
                raise
    return _check_and_clean_once(engine)
