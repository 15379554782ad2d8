"""The audit trail is tamper-evident: a hash chain that `flask admin audit-verify` walks."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from imperioApp.extensions import db
from imperioApp.models import AdminAudit
from imperioApp.services.operators import actions, audit
from imperioApp.services.operators.audit import Operator


@pytest.fixture
def trail(app, make_admin, make_player):
    """Four audited actions; their ids, oldest first."""
    admin, player = make_admin(), make_player()
    operator = Operator(admin.id, "req-chain")
    with app.app_context():
        actions.adjust_balance(operator, player.id, 5, "goodwill")
        actions.lock_account(operator, player.id, "fraud check")
        actions.unlock_account(operator, player.id, "cleared")
        actions.check_ledger(operator)
        ids = db.session.execute(select(AdminAudit.id).order_by(AdminAudit.id)).scalars().all()
        db.session.remove()
    return ids[-4:]


def tamper(app, *statements):
    """What someone with more rights than the app's role could do to the table (its owner: disable the trigger)."""
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:
            statements = (
                ("ALTER TABLE admin_audit DISABLE TRIGGER admin_audit_append_only", {}),
                *statements,
                ("ALTER TABLE admin_audit ENABLE TRIGGER admin_audit_append_only", {}),
            )
        for statement, params in statements:
            db.session.execute(text(statement), params)
        db.session.commit()
        db.session.remove()


def verify(runner):
    result = runner.invoke(args=["admin", "audit-verify"])
    return result.exit_code, [line for line in result.output.splitlines() if line.startswith("BROKEN")]


def test_an_untouched_trail_verifies(app, runner, trail):
    exit_code, broken = verify(runner)
    assert (exit_code, broken) == (0, [])
    with app.app_context():
        head = audit.verify()["head"]
        assert head["id"] == trail[-1]


def test_an_altered_row_is_found(app, runner, trail):
    tamper(app, ("UPDATE admin_audit SET reason = 'nothing to see' WHERE id = :id", {"id": trail[1]}))
    assert verify(runner) == (
        1,
        [f"BROKEN at audit #{trail[1]}: altered or moved, or the row before it deleted (its hash does not follow)"],
    )


def test_a_deleted_row_is_found_at_the_row_after_it(app, runner, trail):
    tamper(app, ("DELETE FROM admin_audit WHERE id = :id", {"id": trail[1]}))
    exit_code, broken = verify(runner)
    assert exit_code == 1 and broken == [broken[0]] and f"#{trail[2]}:" in broken[0]


def test_reordered_rows_are_found(app, runner, trail):
    # Swap two rows' whole content, hashes included: the chain no longer follows at either.
    first, second = trail[1], trail[2]
    columns = "admin_id, action, target_user_id, reason, details, request_id, created_at, row_hash"
    tamper(
        app,
        (f"CREATE TEMPORARY TABLE swap AS SELECT id, {columns} FROM admin_audit WHERE id IN (:a, :b)", {"a": first, "b": second}),
        *(
            (
                f"UPDATE admin_audit SET ({columns}) = (SELECT {columns} FROM swap WHERE swap.id = :other) WHERE id = :id",
                {"id": mine, "other": other},
            )
            for mine, other in ((first, second), (second, first))
        ),
        ("DROP TABLE swap", {}),
    )
    exit_code, broken = verify(runner)
    assert exit_code == 1 and any(f"#{first}:" in line for line in broken)


def test_the_migration_chains_the_rows_that_existed_before_it(make_app, tmp_path):
    scratch = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/chain.db")
    with scratch.app_context():
        upgrade(revision="0009")
        db.session.execute(
            text(
                "INSERT INTO users (username, email, password_hash, balance, role, created_at) VALUES ('ops', 'o@x.io', 'x', 0, 'admin', '2026-01-01 00:00:00.000000')"
            )
        )
        for n, details in enumerate(['{"amount": 5}', None, '{"nested": {"b": 1, "a": [1, 2]}}']):
            db.session.execute(
                text(
                    "INSERT INTO admin_audit (admin_id, action, reason, details, request_id, created_at) "
                    "VALUES (1, 'balance_adjustment', :reason, :details, 'req', :at)"
                ),
                {"reason": f"before the chain {n}", "details": details, "at": f"2026-01-0{n + 1} 12:00:00.{n:06d}"},
            )
        db.session.commit()
        upgrade()
        result = audit.verify()
        assert result["rows"] == 3 and result["problems"] == []
        # New rows chain on to the migrated ones.
        audit.record(Operator(1), "ledger_check", details={"players": 1})
        db.session.commit()
        assert audit.verify()["problems"] == [] and audit.verify()["rows"] == 4
        db.session.remove()
