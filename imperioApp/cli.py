"""Operator commands: `flask seed`, `flask purge-expired`, `flask create-admin`, `flask leaderboard rebuild`,
`flask tournaments close-due|check`, `flask admin ...`."""

import json
import os
import uuid
from datetime import timezone
from pathlib import Path

import click
from flask import Blueprint
from sqlalchemy import update

from .models import OPERATOR_ROLES, User
from .services.competitions import closing, scoring
from .services.core.errors import Conflict, DomainError
from .services.core.unit_of_work import atomic
from .services.engagement import leaderboards
from .services.identity import accounts, sessions
from .services.money import idempotency
from .services.operators import actions, adjustments, audit, rollups
from .services.operators.audit import Operator
from .services.rounds import expiry

blp = Blueprint("cli", __name__, cli_group=None)


@blp.cli.command("seed")
def seed():
    """Create what must exist: the admin from ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD, if set."""
    username = os.environ.get("ADMIN_USERNAME")
    if not username:
        click.echo("seed: nothing to do (set ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD for an admin)")
        return
    _create_admin(username, os.environ.get("ADMIN_EMAIL", ""), os.environ.get("ADMIN_PASSWORD", ""), promote=True)


@blp.cli.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.option("--password", help="8+ characters; asked for when a new account needs it")
@click.option("--role", type=click.Choice(OPERATOR_ROLES), default="admin", show_default=True, help="the operator role")
@click.option("--promote", is_flag=True, help="give the role to the existing account USERNAME instead of failing")
def create_admin(username, email, password, role, promote):
    """Create an operator account (role admin unless --role), or with --promote give an existing one the role."""
    _create_admin(username, email, password, role=role, promote=promote)


def _create_admin(username, email, password, *, role="admin", promote=False):
    """Create the operator, or promote the existing account when asked; exit non-zero when neither can be done."""
    if "@" not in email:
        raise click.ClickException("an operator needs an email address")
    try:
        existing = accounts.get_user_by_username(username)
    except DomainError:
        existing = None
    if existing is None:
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise click.ClickException("a new operator needs a password of 8+ characters")
        try:
            existing = accounts.signup(username, email, password)
        except Conflict as exc:
            raise click.ClickException(f"{exc.message}: no account was created or promoted") from None
        action = "created"
    elif existing.role == role:
        click.echo(f"{username!r} already has the role {role}")
        return
    elif not promote:
        raise click.ClickException(
            f"the account {username!r} already exists (role {existing.role}); run again with --promote to give it the role {role}"
        )
    else:
        action = "promoted"
    with atomic() as session:
        session.execute(update(User.__table__).where(User.__table__.c.id == existing.id).values(role=role))
        # The bootstrap has no acting operator: the audit row names the account itself, from the CLI.
        audit.record(
            Operator(existing.id, f"cli-{uuid.uuid4().hex}"),
            "role_change",
            target_user_id=existing.id,
            reason=f"flask create-admin ({action})",
            details={"from": existing.role, "to": role},
        )
    click.echo(f"operator {username!r} {action} with the role {role}")


@blp.cli.command("grant-runtime-role")
@click.argument("role")
def grant_runtime_role(role):
    """As the schema's owner (PostgreSQL): give ROLE the runtime's privileges and no more."""
    from sqlalchemy import inspect, text

    from .adapters import roles
    from .extensions import db

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("database roles exist on PostgreSQL only")
    try:
        with db.engine.begin() as connection:
            for statement in roles.runtime_grants(role, inspect(connection).get_table_names()):
                connection.execute(text(statement))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{role}: runtime privileges granted (admin_audit: INSERT, SELECT)")


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
    """Reload every current board into the Redis index from the database (after any rebuild under way)."""
    rebuilt = leaderboards.rebuild_index(wait_for_others=True)
    if not rebuilt:
        click.echo("REDIS_URL is unset: the database is the only leaderboard, nothing to rebuild")
        return
    for metric, timeframe, period, done in rebuilt:
        click.echo(f"{metric} {timeframe} {period}: {'rebuilt' if done else 'skipped (another rebuild is running)'}")


@blp.cli.group("rounds")
def rounds():
    """Game round maintenance."""


@rounds.command("expire")
def rounds_expire():
    """End every blackjack round abandoned for ROUND_ABANDON_MINUTES, standing (run by a timer)."""
    click.echo(f"ended {expiry.sweep()} abandoned rounds")


@blp.cli.command("rollup")
@click.option("--since", type=click.DateTime(), help="UTC hour to summarise again from (default: the watermark)")
def rollup(since):
    """Summarise the game hours not yet summarised into game_hours (run by a timer)."""
    hours = rollups.roll_up(since=since.replace(tzinfo=timezone.utc) if since else None)
    click.echo(f"summarised {hours} hours; every hour before {rollups.watermark()} is summarised")


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
        accounts.require_role(user.id, "support")  # each action checks the role it needs
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
    """Credit (--amount > 0) or debit (--amount < 0) a balance through the ledger; never below zero.

    Past ADJUSTMENT_APPROVAL_THRESHOLD, or to your own account, it waits for a second admin
    (status pending), as in the API.
    """
    _echo(_run(adjustments.request, _operator(as_admin), user_id, amount, reason))


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
_account_command(
    "lift-exclusion", actions.lift_exclusion, "Lift a time-out or self-exclusion made in error, within 24 hours of it."
)


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
@click.option("--incremental", is_flag=True, help="only the rows since each player's checkpoint (the nightly check)")
@operator_option
def admin_ledger_check(incremental, as_admin):
    """Check balance == SUM(ledger) for every player (or those with new rows); exit 1 listing any offender."""
    check = actions.check_ledger_since_checkpoint if incremental else actions.check_ledger
    result = _run(check, _operator(as_admin))
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


# --- fairness evidence -----------------------------------------------------------------
#
# rng_audit needs numpy and scipy: imported inside the commands so that no server process
# (which loads this module through create_app) pays for them.

QUICK_SIZES = {"raw": 40_000_000, "roulette": 1_000_000, "slots": 500_000, "blackjack": 20_000}
QUICK_SEQUENCE_BITS = 100_000
GAME_CHOICE = click.Choice(["roulette", "slots", "blackjack"])


@blp.cli.group("fairness")
def fairness_group():
    """RNG evidence for a test lab: collection files and the statistical battery."""


@fairness_group.command("collect")
@click.option("--raw", "raw_bytes", type=click.IntRange(1), metavar="N", help="N bytes of the HMAC stream, unscaled")
@click.option(
    "--outcomes", nargs=2, type=(GAME_CHOICE, click.IntRange(1)), metavar="GAME N", help="N rounds through the game's engine"
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".", show_default=True)
@click.option("--seed", "master", help="derive every seed pair from this hex master seed (a repeatable run)")
@click.option("--rounds-per-pair", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--blocks-per-round", default=1, show_default=True, type=click.IntRange(1), help="raw only")
def fairness_collect(raw_bytes, outcomes, out_dir, master, rounds_per_pair, blocks_per_round):
    """Write raw.bin (--raw N) or GAME.txt (--outcomes GAME N), each with a .json manifest, into --out."""
    from .rng_audit import collect

    if not raw_bytes and not outcomes:
        raise click.UsageError("give --raw N and/or --outcomes GAME N")
    _check_master(master)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if raw_bytes:
        path = out / "raw.bin"
        collect.collect_raw(path, raw_bytes, blocks_per_round, rounds_per_pair, master)
        click.echo(f"{path}: {raw_bytes} bytes")
    if outcomes:
        game, count = outcomes
        path = out / f"{game}.txt"
        collect.collect_outcomes(path, game, count, rounds_per_pair, master)
        click.echo(f"{path}: {count} {game} rounds")


def _check_master(master):
    try:
        if master is not None:
            bytes.fromhex(master)
    except ValueError:
        raise click.BadParameter("the master seed must be hex", param_hint="--seed") from None


@fairness_group.command("audit")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--raw", "raw_path", type=click.Path(exists=True, dir_okay=False), help="a raw collection file")
@click.option("--outcomes", multiple=True, nargs=2, type=(GAME_CHOICE, click.Path(exists=True)), metavar="GAME FILE")
@click.option("--sequence-bits", type=click.IntRange(1000), help="NIST sequence length [10^6 bits, 10^5 for a quick run]")
@click.option("--sequences", default=100, show_default=True, type=click.IntRange(1), help="NIST sequences tested")
@click.option("--dieharder/--no-dieharder", default=True, show_default=True)
@click.option("--seed", "master", help="with no files: collect from this hex master seed instead of fresh pairs")
@click.option("--report", type=click.Path(dir_okay=False), help="also write the table to this file")
def fairness_audit(directory, raw_path, outcomes, sequence_bits, sequences, dieharder, master, report):
    """Run the battery over collection files (DIRECTORY's raw.bin and GAME.txt, or --raw/--outcomes); exit 1 on failure.

    With no files it first collects a quick run (QUICK_SIZES) into a temporary directory.
    """
    import tempfile

    from .rng_audit import battery, collect

    _check_master(master)
    outcomes = list(outcomes)
    with tempfile.TemporaryDirectory() as scratch:
        if directory is None and raw_path is None and not outcomes:
            directory = scratch
            sequence_bits = sequence_bits or QUICK_SEQUENCE_BITS
            collect.collect_raw(Path(scratch) / "raw.bin", QUICK_SIZES["raw"], master=master)
            for game in collect.GAMES:
                collect.collect_outcomes(Path(scratch) / f"{game}.txt", game, QUICK_SIZES[game], master=master)
        if directory is not None:
            found = Path(directory)
            raw_path = raw_path or (found / "raw.bin" if (found / "raw.bin").exists() else None)
            outcomes += [(game, found / f"{game}.txt") for game in collect.GAMES if (found / f"{game}.txt").exists()]
        if raw_path is None and not outcomes:
            raise click.UsageError("no collection files: give DIRECTORY, --raw FILE or --outcomes GAME FILE")
        if raw_path is not None and dieharder and not battery.dieharder.available():
            raise click.ClickException("dieharder is not installed (apt-get install dieharder), or pass --no-dieharder")
        try:
            results, notes = [], []
            if raw_path is not None:
                results, notes = battery.audit_raw(raw_path, sequence_bits or 1_000_000, sequences, dieharder)
            for game, path in outcomes:
                results += battery.audit_outcomes(path, game)
        except ValueError as exc:  # a file too short or not in its format
            raise click.ClickException(str(exc)) from None
    summary, passed = battery.judge(results)
    text = battery.table(results, summary) + "".join(f"\nnote: {note}" for note in notes)
    text += f"\n{'PASS' if passed else 'FAIL'}: {len(results)} tests at the 99 % level"
    click.echo(text)
    if report:
        Path(report).write_text(text + "\n")
    if not passed:
        raise SystemExit(1)


@admin.command("audit-verify")
def admin_audit_verify():
    """Check the audit trail's hash chain; exit 1 naming each row deleted, altered or moved."""
    result = audit.verify()
    for problem in result["problems"]:
        click.echo(f"BROKEN at audit #{problem['id']}: {problem['problem']}")
    head = result["head"]
    click.echo(f"{result['rows']} audit rows checked, {len(result['problems'])} breaks; head #{head['id']} {head['row_hash']}")
    if result["problems"]:
        raise SystemExit(1)
