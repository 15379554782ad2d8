"""Least privilege: the runtime role cannot rewrite the audit trail, whatever the app does.

The test database's superuser plays the owner; a role given the runtime's privileges by
`flask grant-runtime-role` plays the app (`SET ROLE`, so every check is that role's).
"""

import os
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from imperioApp.adapters import roles
from imperioApp.extensions import db
from imperioApp.services.operators import actions
from imperioApp.services.operators.audit import Operator

pytestmark = pytest.mark.postgres
# Roles belong to the whole server: one name per test database, so that two suites on one
# server (two CI runs) never drop each other's role.
RUNTIME = "imperio_runtime_" + re.sub(r"\W", "_", urlsplit(os.environ.get("TEST_DATABASE_URL", "")).path.strip("/") or "test")


@pytest.fixture
def runtime_role(app, runner):
    with app.app_context():
        with db.engine.begin() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": RUNTIME}).first()
            if not exists:
                connection.execute(text(f"CREATE ROLE {RUNTIME} NOLOGIN"))
    result = runner.invoke(args=["grant-runtime-role", RUNTIME])
    assert result.exit_code == 0, result.output
    yield RUNTIME
    with app.app_context():
        with db.engine.begin() as connection:
            for table in ("ALL TABLES", "ALL SEQUENCES"):
                connection.execute(text(f"REVOKE ALL ON {table} IN SCHEMA public FROM {RUNTIME}"))
            connection.execute(text(f"REVOKE ALL ON SCHEMA public FROM {RUNTIME}"))
            connection.execute(text(f"DROP ROLE {RUNTIME}"))


def as_runtime(app, statement, params=None):
    """Run one statement as the runtime role; return None, or the database's refusal."""
    with app.app_context():
        with db.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(text(f"SET LOCAL ROLE {RUNTIME}"))
                connection.execute(text(statement), params or {})
            except DBAPIError as exc:
                return str(exc.orig)
            finally:
                transaction.rollback()
    return None


def test_the_runtime_role_cannot_truncate_disable_the_trigger_update_or_delete_audit_rows(
    app, make_admin, make_player, runtime_role
):
    admin, player = make_admin(), make_player()
    with app.app_context():
        actions.lock_account(Operator(admin.id), player.id, "least privilege")
        db.session.remove()
    for statement in (
        "TRUNCATE admin_audit",
        "TRUNCATE admin_audit CASCADE",
        "ALTER TABLE admin_audit DISABLE TRIGGER admin_audit_append_only",
        "ALTER TABLE admin_audit DISABLE TRIGGER ALL",
        "UPDATE admin_audit SET reason = 'rewritten'",
        "DELETE FROM admin_audit",
        "DROP TABLE admin_audit",
    ):
        refusal = as_runtime(app, statement)
        assert refusal is not None and ("permission denied" in refusal or "must be owner" in refusal), (statement, refusal)
    # What the app needs it still may: read and append the trail, and move money.
    assert as_runtime(app, "SELECT count(*) FROM admin_audit") is None
    appended = as_runtime(
        app,
        "INSERT INTO admin_audit (admin_id, action, created_at, row_hash) VALUES (:a, 'probe', now(), :h)",
        {"a": admin.id, "h": "0" * 64},
    )
    assert appended is None
    assert as_runtime(app, "UPDATE users SET balance = balance WHERE id = :p", {"p": player.id}) is None
    assert as_runtime(app, "TRUNCATE transactions") is not None


def test_a_role_name_is_checked_before_it_reaches_sql():
    with pytest.raises(ValueError):
        roles.runtime_grants('x"; DROP TABLE users; --', ["users"])
    assert roles.runtime_grants("imperio_app", ["admin_audit", "users"])[3:5] == [
        'GRANT SELECT, INSERT ON TABLE "admin_audit" TO "imperio_app"',
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "users" TO "imperio_app"',
    ]
