"""The wallet: the only code that changes a balance, always with a ledger row.

Every movement runs inside the caller's transaction. The balance is changed by one
conditional `UPDATE users SET balance = balance + :net WHERE id = :id AND balance >= :need
RETURNING balance`: on PostgreSQL that statement takes the row lock and, under READ
COMMITTED, re-checks the condition against the latest committed balance if it had to wait,
so concurrent debits serialise on the row and can never overdraw; SQLite serialises writers
itself (transactions there begin IMMEDIATE). The ledger rows for the movement are inserted
in one multi-row statement, each with the balance it left behind.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update

from .. import metrics
from ..models import LEDGER_TYPES, LedgerEntry, User
from ..models.base import utcnow
from .errors import InsufficientFunds, NotFound, ValidationFailed
from .unit_of_work import atomic

MAX_COINS = 2**63 - 1
IDEMPOTENCY_KEY_INFO = "idempotency_key"

_users = User.__table__
_ledger = LedgerEntry.__table__

# Built once: this is every round's hot path, and statement construction costs more CPU
# than the database spends executing it.
_APPLY = (
    update(_users)
    .where(_users.c.id == bindparam("owner"), _users.c.balance >= bindparam("need"))
    .values(balance=_users.c.balance + bindparam("net"))
    .returning(_users.c.balance)
)
_BALANCE = select(_users.c.balance).where(_users.c.id == bindparam("owner"))
_INSERT_ENTRIES = insert(_ledger)


@dataclass(frozen=True)
class Movement:
    """One ledger line to post: a signed amount of coins and why it moved."""

    type: str
    amount: int


def validate_amount(amount, *, field="amount"):
    """Raise unless `amount` is a positive integer coin count (booleans are not integers)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(f"{field} must be an integer number of coins")
    if amount <= 0:
        raise ValidationFailed(f"{field} must be positive")
    if amount > MAX_COINS:
        raise ValidationFailed(f"{field} is too large")


def post(user_id, movements, *, game_type=None, round_id=None):
    """Apply `movements` in order to one wallet; return the final balance.

    Refuses (InsufficientFunds) if the balance would dip below zero at any step, so a bet
    is covered by the balance before its win is credited.
    """
    if not movements:
        raise ValueError("nothing to post")
    net, running, need = 0, 0, 0
    for movement in movements:
        if movement.type not in LEDGER_TYPES:
            raise ValueError(f"unknown ledger type {movement.type!r}")
        validate_amount(abs(movement.amount))
        running += movement.amount
        need = max(need, -running)
        net = running
    with atomic() as session:
        connection = session.connection()
        balance = connection.execute(_APPLY, {"owner": user_id, "need": need, "net": net}).scalar_one_or_none()
        if balance is None:
            current = connection.execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
            if current is None:
                raise NotFound("user not found", code="user_not_found")
            metrics.WALLET_REFUSALS.labels("insufficient_funds").inc()
            raise InsufficientFunds(f"insufficient funds: balance is {current}, {need} needed")
        key = session.info.get(IDEMPOTENCY_KEY_INFO)
        after = balance - net
        rows = []
        for movement in movements:
            after += movement.amount
            rows.append(
                {
                    "user_id": user_id,
                    "type": movement.type,
                    "amount": movement.amount,
                    "balance_after": after,
                    "game_type": game_type,
                    "round_id": round_id,
                    "idempotency_key": key,
                }
            )
        now = utcnow()
        for row in rows:
            row["created_at"] = now
        connection.execute(_INSERT_ENTRIES, rows)
        return balance


def debit(user_id, amount, *, type="bet", game_type=None, round_id=None):
    """Take `amount` coins from the wallet; return the new balance."""
    validate_amount(amount)
    return post(user_id, [Movement(type, -amount)], game_type=game_type, round_id=round_id)


def credit(user_id, amount, *, type="win", game_type=None, round_id=None):
    """Add `amount` coins to the wallet; return the new balance."""
    validate_amount(amount)
    return post(user_id, [Movement(type, amount)], game_type=game_type, round_id=round_id)


def balance_of(user_id):
    """The user's current balance."""
    with atomic() as session:
        balance = session.connection().execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
    if balance is None:
        raise NotFound("user not found", code="user_not_found")
    return balance


def lock(user_id):
    """Lock the wallet row for the rest of the caller's transaction and return its balance."""
    with atomic() as session:
        balance = session.execute(
            select(_users.c.balance).where(_users.c.id == user_id).with_for_update()
        ).scalar_one_or_none()
    if balance is None:
        raise NotFound("user not found", code="user_not_found")
    return balance
