"""No migration rewrites a big table or locks its writers out while it reads it (PostgreSQL).

Each migration is applied, in order, to a scratch database watched by two event triggers:
`table_rewrite` (any rewrite: a column type change, a volatile default) and `ddl_command_end`
(what each statement was, on which table, in which SQL). On a big table a migration may not
rewrite, build an index without CONCURRENTLY, add a constraint that is checked at once
(CHECK, FOREIGN KEY without NOT VALID, UNIQUE, PRIMARY KEY) or SET NOT NULL: each of these
holds a lock that stops writers for as long as the table takes to read, minutes on a year of
rows. The triggers see the statements, not the time they take, so the verdict does not
depend on the machine or on how many rows there are.
"""

import re
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from config import normalise_database_url

pytestmark = pytest.mark.postgres

BIG_TABLES = {
    "users",
    "transactions",
    "game_rounds",
    "fairness_seeds",
    "leaderboard_entries",
    "user_stats",
    "user_achievements",
    "notifications",
    "admin_audit",
    "chat_messages",
    "sessions",
    "idempotency_keys",
}
# Applied everywhere before this rule: 0010 sets admin_audit.row_hash NOT NULL; 0020 re-adds
# the ledger's and notifications' type CHECKs (each read in full under the table's lock) and
# builds uq_transactions_tournament_key without CONCURRENTLY.
GRANDFATHERED = {"0010", "0020"}

WATCH = """
CREATE SCHEMA watch;
CREATE TABLE watch.seen (tag text, tbl text, query text);
CREATE FUNCTION watch.rewrite() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO watch.seen VALUES ('REWRITE', pg_event_trigger_table_rewrite_oid()::regclass::text, current_query());
END $$;
CREATE FUNCTION watch.ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    INSERT INTO watch.seen
    SELECT r.command_tag,
           COALESCE((SELECT i.indrelid::regclass::text FROM pg_index i WHERE i.indexrelid = r.objid),
                    (SELECT c.conrelid::regclass::text FROM pg_constraint c WHERE c.oid = r.objid),
                    r.object_identity),
           current_query();
  END LOOP;
END $$;
CREATE EVENT TRIGGER watch_rewrite ON table_rewrite EXECUTE FUNCTION watch.rewrite();
CREATE EVENT TRIGGER watch_ddl ON ddl_command_end EXECUTE FUNCTION watch.ddl();
"""

_CHECKED_CONSTRAINT = re.compile(r"ADD\s+(CONSTRAINT\s+\S+\s+)?(CHECK|FOREIGN\s+KEY|UNIQUE|PRIMARY\s+KEY)", re.I)


def violations(rows):
    """What in (tag, table, query) rows would stop a big table's writers while it is read or rewritten."""
    found = []
    created = {(table or "").split(".")[-1] for tag, table, _ in rows if tag == "CREATE TABLE"}
    for tag, table, query in rows:
        name = (table or "").split(".")[-1].strip('"')
        if name not in BIG_TABLES or name in created:  # a table made by the same migration is empty
            continue
        sql = " ".join(query.split())
        if tag == "REWRITE":
            found.append(f"rewrites {name}: {sql}")
        elif tag == "CREATE INDEX" and not re.search(r"\bCONCURRENTLY\b", sql, re.I):
            found.append(f"builds an index on {name} without CONCURRENTLY: {sql}")
        elif tag == "ALTER TABLE":
            if _CHECKED_CONSTRAINT.search(sql) and not re.search(r"\bNOT\s+VALID\b", sql, re.I):
                found.append(f"adds a constraint to {name} checked under its lock: {sql}")
            if re.search(r"\bSET\s+NOT\s+NULL\b", sql, re.I):
                found.append(f"sets NOT NULL on {name}, reading it under its lock: {sql}")
    return found


@pytest.fixture
def watched(database_url):
    """A scratch database beside the test one, with the two event triggers; its URL."""
    parts = urlsplit(normalise_database_url(database_url))
    scratch = urlunsplit(parts._replace(path=parts.path + "_locks"))
    server = create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    name = scratch.rsplit("/", 1)[1]
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(scratch)
    try:
        with engine.begin() as conn:
            conn.execute(text(WATCH))
    except Exception as error:  # event triggers need a superuser
        pytest.skip(f"cannot create event triggers here: {error}")
    yield scratch, engine
    engine.dispose()
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def seen(engine):
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT tag, tbl, query FROM watch.seen")).all()
        conn.execute(text("DELETE FROM watch.seen"))
    return rows


def test_the_watch_tells_a_locking_statement_from_a_safe_one(watched):
    _, engine = watched
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE game_rounds (id bigint PRIMARY KEY, bet integer, note text)"))
    seen(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in (
            "ALTER TABLE game_rounds ADD COLUMN extra text",
            "CREATE INDEX CONCURRENTLY ix_ok ON game_rounds (note)",
            "ALTER TABLE game_rounds ADD CONSTRAINT ck_later CHECK (bet > 0) NOT VALID",
        ):
            conn.execute(text(statement))
        assert violations(seen(engine)) == []
        for statement in (
            "CREATE INDEX ix_bad ON game_rounds (bet)",
            "ALTER TABLE game_rounds ALTER COLUMN bet TYPE bigint",
            "ALTER TABLE game_rounds ADD CONSTRAINT ck_now CHECK (bet >= 0)",
            "ALTER TABLE game_rounds ALTER COLUMN note SET NOT NULL",
        ):
            conn.execute(text(statement))
    found = violations(seen(engine))
    assert [line.split(":")[0] for line in found] == [
        "builds an index on game_rounds without CONCURRENTLY",
        "rewrites game_rounds",
        "adds a constraint to game_rounds checked under its lock",
        "sets NOT NULL on game_rounds, reading it under its lock",
    ]


def test_no_new_migration_locks_writers_out_of_a_big_table(watched, make_app):
    url, engine = watched
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
        report = {}
        for revision in revisions:
            upgrade(revision=revision)
            report[revision] = violations(seen(engine))
    offending = {revision: found for revision, found in report.items() if found and revision not in GRANDFATHERED}
    assert offending == {}
