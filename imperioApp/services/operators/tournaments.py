"""What operators do with tournaments: define (and preview), change before start, end now, cancel, check.

Each action checks the stored role, then acts and appends its audit row (action
`tournament_*`, the tournament in the details) in one transaction: a refused action writes
nothing. Ending and cancelling then close or refund through `competitions`, whose payments
are each their own transaction and happen exactly once.
"""

from ..competitions import closing, entries, scoring, tournaments
from ..core.unit_of_work import atomic
from ..identity import accounts
from . import audit


def create(operator, data):
    """Define a tournament (its first period included); return it."""
    accounts.require_admin(operator.admin_id)
    definition = tournaments.validate_definition(data)
    with atomic():
        tournament_id = tournaments.create(definition, created_by=operator.admin_id)
        audit.record(operator, "tournament_create", details={"tournament_id": tournament_id, "title": definition["title"]})
    return tournaments.detail(tournament_id)


def preview(operator, data):
    """The next periods a definition would have if created now; validated as `create` does, nothing written."""
    accounts.require_admin(operator.admin_id)
    definition = tournaments.validate_definition(data)
    return {"periods": tournaments.preview(definition, tournaments.clock())}


def change(operator, tournament_id, changes):
    """Change a tournament before it starts; return it."""
    accounts.require_admin(operator.admin_id)
    with atomic():
        tournaments.change_before_start(tournament_id, changes)
        audit.record(operator, "tournament_change", details={"tournament_id": tournament_id, "fields": sorted(changes)})
    return tournaments.detail(tournament_id)


def end(operator, tournament_id):
    """End the running period now and close it (standings final, prizes paid once)."""
    accounts.require_admin(operator.admin_id)
    with atomic():
        period = closing.end_now(tournament_id)
        audit_id = audit.record(operator, "tournament_end", details={"tournament_id": tournament_id})
    summary = closing.close_period(period["id"]) or {}
    return {
        "tournament_id": tournament_id,
        "period": period["number"],
        "closed": bool(summary.get("closed")),
        "audit_id": audit_id,
    }


def cancel(operator, tournament_id):
    """Cancel the tournament and refund every entry fee."""
    accounts.require_admin(operator.admin_id)
    with atomic():
        period = closing.cancel(tournament_id)
        audit_id = audit.record(operator, "tournament_cancel", details={"tournament_id": tournament_id})
    refunded = entries.refund_entries(tournament_id, period["id"])
    return {"tournament_id": tournament_id, "period": period["number"], "refunded": refunded, "audit_id": audit_id}


def check(operator, tournament_id, number=None):
    """Compare a period's live standings with their recomputation from the rounds table."""
    accounts.require_role(operator.admin_id, "risk")
    return scoring.check(tournament_id, number)
