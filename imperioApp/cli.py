"""Operator commands: `flask seed`, `flask purge-expired`, `flask create-admin`, `flask leaderboard rebuild`,
`flask tournaments close-due|check`, `flask admin ...`."""

import json
import os
import uuid
from datetime import timezone

import click
from flask import Blueprint
from sqlalchemy import update

from .models import User
from .services.competitions import closing, scoring
from .services.core.errors import Conflict, DomainError
from .services.core.unit_of_work import atomic
from .services.engagement import leaderboards
from .services.identity import accounts, sessions
from .services.money import idempotency
from .services.operators import actions, audit
from .services.operators.audit import Operator

blp = Blueprint("cli", __name__, cli_group=None)


@blp.cli.command("seed")
def seed():
    """Create what must exist: the admin from ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD, if set."""
    username = os.environ.get("ADMIN_USERNAME")
    if not username:
        click.echo("seed: nothing to do (set ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD for an admin)")
        return
    _create_admin(username, os.environ.get("ADMIN_EMAIL", ""), os.environ.get("ADMIN_PASSWORD", ""))


@blp.cli.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.password_option()
def create_admin(username, email, password):
    """Create an operator account with the admin role."""
    _create_admin(username, email, password)


def _create_admin(username, email, password):
    if len(password) < 8 or "@" not in email:
        raise click.ClickException("an admin needs an email address and a password of 8+ characters")
    try:
        user = accounts.signup(username, email, password)
    except Conflict:
        click.echo(f"admin {username!r} already exists")
        return
    with atomic() as session:
        session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(role="admin"))
    click.echo(f"admin {username!r} created")


@blp.cli.command("purge-expired")
def purge_expired():
    """Delete idempotency keys past 24 h and sessions over for longer than a refresh lifetime."""
    keys = idempotency.purge_expired()
    ended = sessions.purge_ended_sessions()
    click.echo(f"purged {keys} idempotency keys and {ended} sessions")


@blp.cli.group("leaderboard")
def leaderboard():
    """Leaderboard maintenance."""


@leaderboard.command("rebuild")
def leaderboard_rebuild():
    """Reload every current board into the Redis index from the database."""
    rebuilt = leaderboards.rebuild_index()
    if not rebuilt:
        click.echo("REDIS_URL is unset: the database is the only leaderboard, nothing to rebuild")
        return
    for metric, timeframe, period, done in rebuilt:
        click.echo(f"{metric} {timeframe} {period}: {'rebuilt' if done else 'skipped (another rebuild is running)'}")


@blp.cli.group("tournaments")
def tournaments():
    """Tournament periods: closing them when due, checking their standings."""


@tournaments.command("close-due")
def tournaments_close_due():
    """Close every period whose end passed, pay its prizes, resume interrupted closes and refunds (for a timer)."""
    closed = closing.close_due()
    for summary in closed:
        state = "closed" if summary.get("closed") else "closing (prizes still being paid)"
        click.echo(f"tournament {summary['tournament_id']} period {summary['period']}: {state}, pool {summary['pool']}")
    if not closed:
        click.echo("nothing due")


@tournaments.command("check")
@click.argument("tournament_id", type=int)
@click.option("--period", type=int, help="the period number (default: the latest)")
def tournaments_check(tournament_id, period):
    """Compare a period's live standings with their recomputation from the rounds table; exit 1 on a difference."""
    result = _run(scoring.check, tournament_id, period)
    for difference in result["differences"]:
        click.echo(
            f"DIFFERENT user {difference['user_id']}: live {difference['live_score']} "
            f"({difference['live_rounds']} rounds), recomputed {difference['recomputed_score']} "
            f"({difference['recomputed_rounds']} rounds)"
        )
    click.echo(f"{result['entries_checked']} entries checked, {len(result['differences'])} differences")
    if not result["ok"]:
        raise SystemExit(1)


# --- operators -------------------------------------------------------------------------


@blp.cli.group("admin")
def admin():
    """Operator actions without a browser; --as names the admin (the stored role is checked and audited)."""


def _operator(username):
    try:
        user = accounts.get_user_by_username(username)
        accounts.require_admin(user.id)
    except DomainError as exc:
        raise click.ClickException(f"{username!r} cannot act as an operator: {exc.message}") from None
    return Operator(user.id, f"cli-{uuid.uuid4().hex}")


def _run(action, *args, **kwargs):
    """Call an operator service; a refusal becomes a clean CLI error (and has written nothing)."""
    try:
        return action(*args, **kwargs)
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None


def _echo(value):
    click.echo(json.dumps(value, indent=2, default=str))


operator_option = click.option("--as", "as_admin", required=True, metavar="ADMIN", help="the operator's username")
reason_option = click.option("--reason", required=True, help="why (3-500 characters), kept in the audit trail")


@admin.command("find")
@click.argument("query", required=False)
@click.option("--limit", default=20, type=click.IntRange(1, 100))
@operator_option
def admin_find(query, limit, as_admin):
    """Find players by part of their username or email, or by id."""
    page = _run(actions.find_players, _operator(as_admin), query, limit=limit)
    for row in page["items"]:
        click.echo(f"{row['id']}\t{row['username']}\t{row['email']}\t{row['balance']}\t{row['role']}")


@admin.command("show")
@click.argument("user_id", type=int)
@operator_option
def admin_show(user_id, as_admin):
    """Everything about one player, as JSON."""
    _echo(_run(actions.player, _operator(as_admin), user_id))


@admin.command("sessions")
@click.argument("user_id", type=int)
@operator_option
def admin_sessions(user_id, as_admin):
    """A player's live login sessions, newest first: id, last use, address, device."""
    for row in _run(actions.player_sessions, _operator(as_admin), user_id):
        click.echo(f"{row['id']}\t{row['last_used_at'].isoformat()}\t{row['client_address']}\t{row['user_agent']}")


@admin.command("adjust")
@click.argument("user_id", type=int)
@click.option("--amount", required=True, type=int, help="signed coins: positive credits, negative debits")
@reason_option
@operator_option
def admin_adjust(user_id, amount, reason, as_admin):
    """Credit (--amount > 0) or debit (--amount < 0) a balance through the ledger; never below zero."""
    _echo(_run(actions.adjust_balance, _operator(as_admin), user_id, amount, reason))


def _account_command(name, action, help_text):
    @admin.command(name, help=help_text)
    @click.argument("user_id", type=int)
    @reason_option
    @operator_option
    def command(user_id, reason, as_admin):
        result = _run(action, _operator(as_admin), user_id, reason)
        click.echo(f"{name}: {result['username']} (audit #{result['audit_id']})")

    return command


_account_command("lock", actions.lock_account, "Suspend an account: no login, no play, sockets ended.")
_account_command("unlock", actions.unlock_account, "Lift an operator's suspension.")
_account_command("end-sessions", actions.end_sessions, "End a player's live sessions.")
_account_command("reset-lockout", actions.reset_lockout, "Clear failed logins and the login lockout.")


@admin.command("rtp")
@click.option("--from", "since", type=click.DateTime(), help="UTC")
@click.option("--to", "until", type=click.DateTime(), help="UTC")
@operator_option
def admin_rtp(since, until, as_admin):
    """Each game's coins wagered and paid, and RTP against the published RTP."""
    utc = [moment.replace(tzinfo=timezone.utc) if moment else None for moment in (since, until)]
    report = _run(actions.game_rtp, _operator(as_admin), *utc)
    for game in report["games"]:
        rtp = f"{game['rtp']:.4%}" if game["rtp"] is not None else "-"
        click.echo(
            f"{game['game_type']}\trounds {game['rounds']}\twagered {game['wagered']}\tpaid {game['paid']}"
            f"\tRTP {rtp}\tpublished {game['published_rtp']:.4%}"
        )


@admin.command("ledger-check")
@operator_option
def admin_ledger_check(as_admin):
    """Check balance == SUM(ledger) for every player; exit 1 listing any offender."""
    result = _run(actions.check_ledger, _operator(as_admin))
    for offender in result["offenders"]:
        click.echo(
            f"OFFENDER {offender['user_id']} {offender['username']}: balance {offender['balance']}, "
            f"ledger {offender['ledger_sum']}"
        )
    click.echo(f"{result['players_checked']} players checked, {len(result['offenders'])} offenders")
    if not result["ok"]:
        raise SystemExit(1)


@admin.command("audit")
@click.option("--limit", default=50, type=click.IntRange(1, 100))
@click.option("--target", "target_user_id", type=int)
@operator_option
def admin_audit(limit, target_user_id, as_admin):
    """The latest operator actions, newest first."""
    _operator(as_admin)
    for row in audit.listing(target_user_id=target_user_id, limit=limit)["items"]:
        click.echo(
            f"{row['created_at'].isoformat()}\t{row['admin_username']}\t{row['action']}\t"
            f"{row['target_username'] or '-'}\t{row['reason'] or ''}"
        )
