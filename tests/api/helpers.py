"""Assertions shared by the API tests."""

import threading
import time
from contextlib import contextmanager

import marshmallow as ma
from sqlalchemy import event, func, select, update

from imperioApp.extensions import db
from imperioApp.models import AdminAudit, FairnessSeed, GameRound, LedgerEntry, User
from tests.ledger import ledger_drift


def assert_error(response, status, code=None):
    """The response is the JSON error shape with this status (and code)."""
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error", "message"} and {"code", "message"} <= set(body["error"]), body
    assert body["message"] == body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def assert_documented(schema, body):
    """`body` has only `schema`'s fields and every required one, and dumps to itself; nested schemas too."""
    fields = schema.fields
    required = {name for name, field in fields.items() if field.required}
    assert required <= set(body) <= set(fields), (type(schema).__name__, sorted(body))
    assert schema.dump(body) == body
    for name, field in fields.items():
        inner = field.inner if isinstance(field, ma.fields.List) else field
        if isinstance(inner, ma.fields.Nested) and body.get(name) is not None:
            for item in body[name] if inner is not field else [body[name]]:
                assert_documented(inner.schema, item)


def assert_ledger_holds(app):
    """Every balance equals the sum of its ledger, and every balance_after chain is unbroken."""
    with app.app_context():
        with db.engine.connect() as connection:
            assert ledger_drift(connection) == []


def money_snapshot(app, user_id):
    """Balance-relevant state of one player: ledger rows, rounds and nonces consumed."""
    with app.app_context():
        ledger = db.session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.user_id == user_id)
        ).scalar_one()
        rounds = db.session.execute(select(func.count()).select_from(GameRound).where(GameRound.user_id == user_id)).scalar_one()
        nonce = db.session.execute(select(func.sum(FairnessSeed.nonce)).where(FairnessSeed.user_id == user_id)).scalar_one()
        db.session.remove()
    return {"ledger_rows": ledger, "rounds": rounds, "nonce": nonce or 0}


class QueryCount:
    """The SQL statements a block sent to the database."""

    def __init__(self):
        self.statements = []

    @property
    def count(self):
        return len(self.statements)


@contextmanager
def count_queries(app):
    """Count the statements this thread sends to the app's engine inside the block (executemany counts once).

    Only this thread's: background work (the realtime layer's leaderboard pushes) shares the engine.
    """
    counter = QueryCount()
    thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany):
        # SQLite's explicit BEGIN IMMEDIATE is transaction control, not a query.
        if threading.get_ident() == thread and not statement.lstrip().upper().startswith("BEGIN"):
            counter.statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", record)


def set_role(app, user_id, role):
    """Store `role` on the account, as an operator's grant would."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(role=role))
        db.session.commit()
        db.session.remove()


def audit_actions(app):
    """The audit trail's actions, oldest first."""
    with app.app_context():
        actions = db.session.execute(select(AdminAudit.action).order_by(AdminAudit.id)).scalars().all()
        db.session.remove()
    return actions


def wait_for_next_step(totp):
    """Block until the TOTP moves on to its next 30-second step (a code is good once per step)."""
    current = int(time.time() // totp.interval)
    deadline = time.time() + 60
    while int(time.time() // totp.interval) == current:
        assert time.time() < deadline, "the TOTP step did not move on within 60 s"
        time.sleep(0.2)
