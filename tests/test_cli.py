"""Operator commands."""

from datetime import timedelta

from sqlalchemy import select, update

from imperioApp.extensions import db
from imperioApp.models import AdminAudit, AuthSession, IdempotencyRecord, User
from imperioApp.models.base import utcnow


def test_seed_without_admin_settings_does_nothing(runner, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0 and "nothing to do" in result.output


def test_seed_creates_the_admin_once(app, runner, monkeypatch):
    monkeypatch.setenv("ADMIN_USERNAME", "operator")
    monkeypatch.setenv("ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-password")
    assert "created" in runner.invoke(args=["seed"]).output
    assert "already has the role admin" in runner.invoke(args=["seed"]).output
    with app.app_context():
        assert db.session.execute(select(User.role).where(User.username == "operator")).scalar_one() == "admin"


def test_seed_gives_the_configured_operator_back_the_admin_role(app, runner, monkeypatch, make_player):
    demoted = make_player(username="operator")
    monkeypatch.setenv("ADMIN_USERNAME", "operator")
    monkeypatch.setenv("ADMIN_EMAIL", "ops@example.com")
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0 and "promoted" in result.output
    with app.app_context():
        assert db.session.get(User, demoted.id).role == "admin"


def test_create_admin_on_an_existing_account_fails_clearly_unless_asked_to_promote(app, runner, make_player):
    player = make_player(username="shiftlead")
    refused = runner.invoke(args=["create-admin", "shiftlead", "x@example.com", "--password", "long-enough-1"])
    assert refused.exit_code != 0 and "--promote" in refused.output
    with app.app_context():
        assert db.session.get(User, player.id).role == "player"
        db.session.remove()
    promoted = runner.invoke(args=["create-admin", "shiftlead", "x@example.com", "--role", "risk", "--promote"])
    assert promoted.exit_code == 0 and "promoted with the role risk" in promoted.output
    with app.app_context():
        assert db.session.get(User, player.id).role == "risk"
        assert db.session.execute(select(AdminAudit.details).where(AdminAudit.action == "role_change")).scalar_one() == {
            "from": "player",
            "to": "risk",
        }


def test_create_admin_refuses_an_email_taken_by_another_account(runner, make_player):
    make_player(username="someone", email="taken@example.com")
    result = runner.invoke(args=["create-admin", "newboss", "taken@example.com", "--password", "long-enough-1"])
    assert result.exit_code != 0 and "email" in result.output


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-admin", "boss", "boss@example.com", "--password", "short"])
    assert result.exit_code != 0


def test_purge_expired_removes_only_expired_rows(app, runner, player):
    with app.app_context():
        live = db.session.execute(select(AuthSession.id)).scalar_one()  # the player's own login
        ended_long_ago = utcnow() - timedelta(days=8)
        db.session.add(
            AuthSession(id="x" * 22, user_id=player.id, expires_at=ended_long_ago, refresh_jti="r", ended_at=ended_long_ago)
        )
        db.session.add(IdempotencyRecord(user_id=player.id, key="k", request_hash="h", status_code=200, response_body="{}"))
        db.session.commit()
        db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert "purged 1 idempotency keys and 1 sessions" in result.output
    with app.app_context():
        assert db.session.execute(select(AuthSession.id)).scalars().all() == [live]
