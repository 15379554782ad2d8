"""The clean-up between tests, when another connection is reading the tables it empties."""

import threading

import pytest
from sqlalchemy import event, text

from imperioApp.extensions import db
from tests.cleanup import check_and_clean
from tests.concurrency import wait_for

pytestmark = pytest.mark.postgres

DEADLINE_SECONDS = 60


def test_a_deadlock_with_a_reader_in_another_connection_only_makes_the_cleanup_run_again(app, player):
    with app.app_context():
        engine = db.engine
        truncates = []

        def count_truncates(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("TRUNCATE"):
                truncates.append(statement)

        event.listen(engine, "before_cursor_execute", count_truncates)
        reader, watcher = engine.connect(), engine.connect()
        try:
            # The reader never runs the deadlock check itself, so the clean-up is the side aborted.
            reader.execute(text("SET deadlock_timeout = '10min'"))
            reader.execute(text("SELECT 1 FROM users LIMIT 0"))  # holds users, which TRUNCATE locks last
            outcome = {}
            cleanup = threading.Thread(target=lambda: outcome.update(drift=check_and_clean(engine)))
            cleanup.start()

            def truncate_waits_for_users():
                waiting = watcher.execute(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'users'::regclass")
                ).scalar()
                watcher.rollback()
                return waiting == 1

            assert wait_for(truncate_waits_for_users, DEADLINE_SECONDS), "TRUNCATE never waited for the reader"
            reader.execute(text("SELECT 1 FROM game_rounds LIMIT 0"))  # which TRUNCATE holds: a deadlock
            reader.commit()
            cleanup.join(DEADLINE_SECONDS)
            assert not cleanup.is_alive()
        finally:
            reader.close()
            watcher.close()
            event.remove(engine, "before_cursor_execute", count_truncates)

        assert outcome == {"drift": []}
        assert len(truncates) == 2  # aborted once, then done
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0
