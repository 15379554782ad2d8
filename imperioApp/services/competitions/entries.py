"""Joining a tournament: the entry, its fee through the ledger, and the protection rules.

A join admits the player to the tournament's open period (running or upcoming) in one
transaction: the period's entrant count rises only while it is below max_entrants (one
guarded UPDATE, so two last-place joins cannot both pass), the entry row is inserted, the fee
is debited as a `tournament_fee` ledger row keyed `tournament:<id>:<period>:entry:<user>`,
and the player is flagged as competing. A timed-out, self-excluded or suspended player is
refused; the fee is a stake for wager and loss limits (`enforcement.check_stake`).
"""

from sqlalchemy import and_, insert, or_, select, update

from ...models import TournamentEntry, TournamentPeriod, User
from ..core import events
from ..core.errors import Conflict
from ..core.unit_of_work import atomic
from ..money import wallet
from ..protection import enforcement
from . import tournaments
from .tournaments import TournamentClosed

_entries = TournamentEntry.__table__
_periods = TournamentPeriod.__table__
_users = User.__table__


class TournamentFull(Conflict):
    code = "tournament_full"


class AlreadyJoined(Conflict):
    code = "already_joined"


def fee_key(tournament_id, period_id, user_id):
    return f"tournament:{tournament_id}:{period_id}:entry:{user_id}"


def refund_key(tournament_id, period_id, user_id):
    return f"tournament:{tournament_id}:{period_id}:refund:{user_id}"


def join(user_id, tournament_id, *, idempotency_key=None):
    """Enter the player in the tournament's open period; return the entry and the balance."""
    now = tournaments.clock()
    enforcement.ensure_may_play(user_id)
    with atomic() as session:
        definition = tournaments.definition_of(session, tournament_id)
        period = tournaments.period_for(session, tournament_id)
        if (
            definition["status"] != "active"
            or period["status"] != "open"
            or (period["ends_at"] is not None and period["ends_at"] <= now)
        ):
            raise TournamentClosed("this tournament takes no more entrants")
        # The wallet row lock serialises one player's joins, so the check below holds.
        wallet.lock(user_id)
        taken = session.execute(
            select(_entries.c.id).where(_entries.c.period_id == period["id"], _entries.c.user_id == user_id)
        ).first()
        if taken is not None:
            raise AlreadyJoined("you are already in this tournament")
        fee = definition["entry_fee"]
        room = [_periods.c.id == period["id"], _periods.c.status == "open"]
        room.append(or_(_periods.c.ends_at.is_(None), _periods.c.ends_at > now))
        if definition["max_entrants"] is not None:
            room.append(_periods.c.entrants < definition["max_entrants"])
        admitted = session.execute(
            update(_periods).where(*room).values(entrants=_periods.c.entrants + 1, fees=_periods.c.fees + fee)
        ).rowcount
        if not admitted:
            closed = session.execute(select(_periods.c.status).where(_periods.c.id == period["id"])).scalar_one()
            if closed != "open":
                raise TournamentClosed("this tournament takes no more entrants")
            raise TournamentFull(f"this tournament is full ({definition['max_entrants']} entrants)")
        session.execute(
            insert(_entries),
            {
                "period_id": period["id"],
                "tournament_id": tournament_id,
                "user_id": user_id,
                "metric": definition["metric"],
                "joined_at": now,
                "fee": fee,
                "score": 0,
                "rounds": 0,
                "reached_at": now,
                "reached_round_id": None,
                "final": False,
            },
        )
        if fee:
            movements = [wallet.Movement("tournament_fee", -fee)]
            applied = wallet.apply(user_id, movements, idempotency_key=fee_key(tournament_id, period["id"], user_id), at=now)
            if applied.protection_active:
                enforcement.check_stake(user_id, movements, round_id=None, posted_at=now)
            balance = applied.balance
        else:
            balance = wallet.balance_of(user_id)
        session.execute(update(_users).where(_users.c.id == user_id).values(competing=True))
        events.publish_after_commit(
            events.TOURNAMENT_STANDINGS_CHANGED, {"tournament_id": tournament_id, "period_id": period["id"]}
        )
    return {
        "tournament_id": tournament_id,
        "period": period["number"],
        "fee": fee,
        "balance": balance,
        "joined_at": now,
    }


def refund_entries(tournament_id, period_id):
    """Refund every unrefunded fee of a period, each in its own transaction, each at most once; return how many."""
    with atomic() as session:
        pending = session.execute(
            select(_entries.c.id, _entries.c.user_id, _entries.c.fee).where(
                and_(_entries.c.period_id == period_id, _entries.c.fee > 0, _entries.c.refunded_at.is_(None))
            )
        ).all()
    refunded = 0
    for entry in pending:
        with atomic() as session:
            claimed = session.execute(
                update(_entries)
                .where(_entries.c.id == entry.id, _entries.c.refunded_at.is_(None))
                .values(refunded_at=tournaments.clock())
            ).rowcount
            if claimed:
                wallet.credit(
                    entry.user_id,
                    entry.fee,
                    type="tournament_refund",
                    idempotency_key=refund_key(tournament_id, period_id, entry.user_id),
                )
                refunded += 1
    return refunded
