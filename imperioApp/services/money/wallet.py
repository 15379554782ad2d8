"""The wallet: the code that changes a balance, always with a ledger row.

(On PostgreSQL a game round's step embeds the same guarded update and ledger rows in its
one settlement statement: see `settlement`.)

Every movement runs inside the caller's transaction. The balance is changed by one
conditional `UPDATE users SET balance = balance + :net WHERE id = :id AND balance >= :need
RETURNING balance`: on PostgreSQL that statement takes the row lock and, under READ
COMMITTED, re-checks the condition against the latest committed balance if it had to wait,
so concurrent debits serialise on the row and can never overdraw; SQLite serialises writers
itself (transactions there begin IMMEDIATE). The ledger rows for the movement are inserted
in one multi-row statement, each with the balance it left behind.

The same UPDATE returns the player's `protection_active` and `competing` flags (see
`apply`), so settlement puts a stake to the responsible-gaming check, and a settled round to
tournament scoring, only for the few players who need one.

The balance ceiling (MAX_BALANCE) is a condition of that same UPDATE: `balance <= :room`,
where `room` is the ceiling less the most the movements (and, for a stake, the round it
opens or raises: `exposure`) could add. A credit that would pass the ceiling is refused
(409 balance_ceiling) with nothing written, so no arithmetic ever reaches the database's
BIGINT overflow.
"""

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, select, update

from ... import metrics
from ...adapters import driver
from ...games.numbers import is_integer
from ...models import LEDGER_TYPES, User
from ...models.base import utcnow
from ..core.errors import BalanceCeiling, InsufficientFunds, NotFound, ValidationFailed
from ..core.unit_of_work import atomic

MAX_COINS = 2**63 - 1  # BIGINT: what the column holds; the domain's bound is ceiling()

_users = User.__table__

# Built once: this is every round's hot path, and statement construction costs more CPU
# than the database spends executing it.
_APPLY = driver.Prebuilt(
    update(_users)
    .where(_users.c.id == bindparam("owner"), _users.c.balance >= bindparam("need"), _users.c.balance <= bindparam("room"))
    .values(balance=_users.c.balance + bindparam("net"))
    .returning(_users.c.balance, _users.c.protection_active, _users.c.competing)
)
_BALANCE = driver.Prebuilt(select(_users.c.balance).where(_users.c.id == bindparam("owner")))
_LOCK = driver.Prebuilt(
    select(_users.c.balance, _users.c.protection_active, _users.c.competing)
    .where(_users.c.id == bindparam("owner"))
    .with_for_update()
)


@dataclass(frozen=True)
class Applied:
    """What posting movements left: the final balance, and the player's flags (protection, tournaments)."""

    balance: int
    protection_active: bool
    competing: bool = False


@dataclass(frozen=True)
class Movement:
    """One ledger line to post: a signed amount of coins and why it moved."""

    type: str
    amount: int


def ceiling():
    """MAX_BALANCE: the most coins one balance may hold."""
    return current_app.config["MAX_BALANCE"]


def validate_amount(amount, *, field="amount"):
    """Raise unless `amount` is a positive integer coin count within the ceiling (booleans are not integers)."""
    if not is_integer(amount):
        raise ValidationFailed(f"{field} must be an integer number of coins")
    if amount <= 0:
        raise ValidationFailed(f"{field} must be positive")
    if amount > ceiling():
        raise ValidationFailed(f"{field} is too large: at most {ceiling()} coins")


@dataclass(frozen=True)
class Plan:
    """What movements applied in order do: the net change, the balance they need, their highest rise."""

    net: int
    need: int
    peak: int

    def room(self, exposure=0):
        """The highest balance before the movements that keeps it within the ceiling.

        `exposure`: the most the round could still add beyond these movements' own rise (a
        stake's potential payout), counted so that a bet is refused before its outcome exists.
        """
        return ceiling() - max(self.peak, exposure)


def plan(movements):
    """The Plan of `movements` applied in order; refuses unknown or bad lines."""
    net, need, peak = 0, 0, 0
    for movement in movements:
        if movement.type not in LEDGER_TYPES:
            raise ValueError(f"unknown ledger type {movement.type!r}")
        validate_amount(abs(movement.amount))
        net += movement.amount
        need = max(need, -net)
        peak = max(peak, net)
    return Plan(net, need, peak)


def refuse(user_id, need, room):
    """Raise why a guarded balance update moved nothing: no such user, too few coins, or the ceiling."""
    with atomic() as session:
        current = driver.execute(session, _BALANCE, {"owner": user_id}).fetchone()
    if current is None:
        raise NotFound("user not found", code="user_not_found")
    if current[0] > room:
        metrics.WALLET_REFUSALS.labels("balance_ceiling").inc()
        raise BalanceCeiling(
            f"this would take the balance past its ceiling of {ceiling()} coins (balance is {current[0]})",
            details={"ceiling": ceiling(), "balance": current[0]},
        )
    metrics.WALLET_REFUSALS.labels("insufficient_funds").inc()
    raise InsufficientFunds(f"insufficient funds: balance is {current[0]}, {need} needed")


def _entries_sql(count):
    rows = ", ".join(
        f"(:user_id, :type{n}, :amount{n}, :after{n}, :game_type, :round_id, :idempotency_key, :now)" for n in range(count)
    )
    sql = (
        "INSERT INTO transactions (user_id, type, amount, balance_after, game_type, round_id, idempotency_key, "  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
        f"created_at) VALUES {rows}"
    )
    return driver.Prebuilt(sqlite=sql, postgresql=re.sub(r":([a-z_0-9]+)", r"%(\1)s", sql))


_ENTRIES = {count: _entries_sql(count) for count in (1, 2)}


def post(user_id, movements, *, game_type=None, round_id=None, idempotency_key=None):
    """Apply `movements` in order to one wallet; return the final balance.

    Refuses (InsufficientFunds) if the balance would dip below zero at any step, so a bet
    is covered by the balance before its win is credited.
    """
    return apply(user_id, movements, game_type=game_type, round_id=round_id, idempotency_key=idempotency_key).balance


def apply(user_id, movements, *, game_type=None, round_id=None, idempotency_key=None, at=None, room=None):
    """`post`, returning Applied; the ledger rows are stamped `at` (default: now).

    `room`: the highest balance the movements may start from (default: the Plan's own room).
    """
    if not movements:
        raise ValueError("nothing to post")
    planned = plan(movements)
    net, need = planned.net, planned.need
    room = planned.room() if room is None else room
    with atomic() as session:
        dialect_name = driver.dialect_of(session)
        row = driver.execute(session, _APPLY, {"owner": user_id, "need": need, "net": net, "room": room}).fetchone()
        if row is None:
            refuse(user_id, need, room)
        balance, protected, competing = row
        params = {
            "user_id": user_id,
            "game_type": game_type,
            "round_id": round_id,
            "idempotency_key": idempotency_key,
            "now": driver.timestamp(dialect_name, at or utcnow()),
        }
        after = balance - net
        for n, movement in enumerate(movements):
            after += movement.amount
            params.update({f"type{n}": movement.type, f"amount{n}": movement.amount, f"after{n}": after})
        if len(movements) in _ENTRIES:
            driver.execute(session, _ENTRIES[len(movements)], params)
        else:
            driver.execute(session, _entries_sql(len(movements)), params)
        return Applied(balance, bool(protected), bool(competing))


def debit(user_id, amount, *, type="bet", game_type=None, round_id=None, idempotency_key=None):
    """Take `amount` coins from the wallet; return the new balance."""
    validate_amount(amount)
    return post(user_id, [Movement(type, -amount)], game_type=game_type, round_id=round_id, idempotency_key=idempotency_key)


def credit(user_id, amount, *, type="win", game_type=None, round_id=None, idempotency_key=None):
    """Add `amount` coins to the wallet; return the new balance."""
    validate_amount(amount)
    return post(user_id, [Movement(type, amount)], game_type=game_type, round_id=round_id, idempotency_key=idempotency_key)


def _one_balance(statement, user_id):
    with atomic() as session:
        row = driver.execute(session, statement, {"owner": user_id}).fetchone()
    if row is None:
        raise NotFound("user not found", code="user_not_found")
    return row[0]


def balance_of(user_id):
    """The user's current balance."""
    return _one_balance(_BALANCE, user_id)


def lock(user_id):
    """Lock the wallet row for the rest of the caller's transaction and return its balance."""
    return lock_flags(user_id).balance


def lock_flags(user_id):
    """Lock the wallet row for the rest of the caller's transaction; return Applied (balance and flags)."""
    with atomic() as session:
        row = driver.execute(session, _LOCK, {"owner": user_id}).fetchone()
    if row is None:
        raise NotFound("user not found", code="user_not_found")
    return Applied(row[0], bool(row[1]), bool(row[2]))
