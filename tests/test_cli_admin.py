"""`flask admin ...`: the operator API's actions from a shell, with the same checks and audit."""

from prometheus_client import REGISTRY
from sqlalchemy import select, text

from imperioApp.extensions import db
from imperioApp.models import AdminAudit, User


def audit_actions(app):
    with app.app_context():
        actions = db.session.execute(select(AdminAudit.action, AdminAudit.request_id).order_by(AdminAudit.id)).all()
        db.session.remove()
    return actions


def test_find_show_adjust_lock_and_audit(app, runner, make_admin, player):
    make_admin(username="ops")
    found = runner.invoke(args=["admin", "find", player.username[:5], "--as", "ops"])
    assert found.exit_code == 0 and player.username in found.output
    assert f'"id": {player.id}' in runner.invoke(args=["admin", "show", str(player.id), "--as", "ops"]).output
    adjusted = runner.invoke(
        args=["admin", "adjust", str(player.id), "--amount", "-40", "--reason", "duplicate bonus", "--as", "ops"]
    )
    assert adjusted.exit_code == 0 and '"balance": 960' in adjusted.output
    sessions = runner.invoke(args=["admin", "sessions", str(player.id), "--as", "ops"])
    assert sessions.exit_code == 0 and sessions.output.startswith(player.session_id) and "\ttests" in sessions.output
    locked = runner.invoke(args=["admin", "lock", str(player.id), "--reason", "fraud check", "--as", "ops"])
    assert locked.exit_code == 0 and "lock:" in locked.output
    assert runner.invoke(args=["admin", "sessions", str(player.id), "--as", "ops"]).output == ""  # all ended
    trail = runner.invoke(args=["admin", "audit", "--as", "ops"])
    assert "account_lock" in trail.output and "balance_adjustment" in trail.output
    actions = audit_actions(app)
    assert [action for action, _ in actions] == ["balance_adjustment", "account_lock"]
    assert all(request_id.startswith("cli-") for _, request_id in actions)
    with app.app_context():
        assert db.session.get(User, player.id).suspended_at is not None
        db.session.remove()


def test_refusals_exit_non_zero_and_write_nothing(app, runner, make_admin, player):
    make_admin(username="ops")
    not_admin = runner.invoke(
        args=["admin", "adjust", str(player.id), "--amount", "5", "--reason", "goodwill", "--as", player.username]
    )
    assert not_admin.exit_code != 0 and "cannot act as an operator" in not_admin.output
    overdraw = runner.invoke(args=["admin", "adjust", str(player.id), "--amount", "-5000", "--reason", "too much", "--as", "ops"])
    assert overdraw.exit_code != 0 and "insufficient_funds" in overdraw.output
    no_reason = runner.invoke(args=["admin", "lock", str(player.id), "--reason", " ", "--as", "ops"])
    assert no_reason.exit_code != 0 and "reason_required" in no_reason.output
    assert runner.invoke(args=["admin", "show", "424242", "--as", "ops"]).exit_code != 0
    assert audit_actions(app) == []


def test_rtp_and_ledger_check(app, runner, make_admin, player, client):
    make_admin(username="ops")
    client.post("/spin", json={"bet": 2}, headers=player.headers)
    rtp = runner.invoke(args=["admin", "rtp", "--from", "2020-01-01", "--as", "ops"])
    assert rtp.exit_code == 0 and "slots\trounds 1\twagered 2" in rtp.output and "published 96.0083%" in rtp.output
    clean = runner.invoke(args=["admin", "ledger-check", "--as", "ops"])
    assert clean.exit_code == 0 and "0 offenders" in clean.output
    assert REGISTRY.get_sample_value("imperio_ledger_check_offenders") == 0
    with app.app_context():
        db.session.execute(text("UPDATE users SET balance = balance + 1 WHERE id = :id"), {"id": player.id})
        db.session.commit()
        broken = runner.invoke(args=["admin", "ledger-check", "--as", "ops"])
        db.session.execute(text("UPDATE users SET balance = balance - 1 WHERE id = :id"), {"id": player.id})
        db.session.commit()
        db.session.remove()
    assert broken.exit_code == 1 and f"OFFENDER {player.id}" in broken.output
    # The last check's result is the gauge the ledger alert watches.
    assert REGISTRY.get_sample_value("imperio_ledger_check_offenders") == 1


def test_a_large_adjustment_from_the_cli_waits_for_a_second_admin(app, runner, make_admin, player, monkeypatch):
    monkeypatch.setitem(app.config, "ADJUSTMENT_APPROVAL_THRESHOLD", 100)
    make_admin(username="ops")
    asked = runner.invoke(args=["admin", "adjust", str(player.id), "--amount", "500", "--reason", "big prize", "--as", "ops"])
    assert asked.exit_code == 0 and '"status": "pending"' in asked.output
    with app.app_context():
        assert db.session.get(User, player.id).balance == 1000
