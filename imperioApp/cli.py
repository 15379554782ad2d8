"""Operator commands: `flask seed`, `flask purge-expired`, `flask create-admin`, `flask leaderboard rebuild`."""

import os

import click
from flask import Blueprint
from sqlalchemy import update

from .models import User
from .services import accounts, auth, idempotency, leaderboards
from .services.errors import Conflict
from .services.unit_of_work import atomic

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
    sessions = auth.purge_ended_sessions()
    click.echo(f"purged {keys} idempotency keys and {sessions} sessions")


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
