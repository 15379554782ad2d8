"""Accounts: sign-up, looking players up, and the account rules every other wing asks.

The account rules are read from the stored row, never from a token: `refuse_if_suspended`
(an operator's suspension stops login, token refresh and every stake) and `require_admin`
(the role is read from the database on every use, so a demoted or deleted admin loses every
power at once). Login lives in `login`, sessions in `sessions`, tokens in `tokens`.
"""

import structlog
from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ...models import ROLES, TournamentPeriod, User
from ..core.errors import Conflict, Forbidden, NotFound
from ..core.unit_of_work import atomic
from ..money import fairness, wallet
from . import passwords

log = structlog.get_logger(__name__)

_users = User.__table__


def signup(username, email, password):
    """Create a player and credit the sign-up bonus through the ledger; return the user."""
    email = email.strip().lower()
    password_hash = passwords.hash_password(password)
    try:
        with atomic() as session:
            taken = session.execute(
                select(_users.c.username, _users.c.email).where(
                    or_(func.lower(_users.c.username) == username.lower(), _users.c.email == email)
                )
            ).first()
            if taken is not None:
                field = "username" if taken.username.lower() == username.lower() else "email"
                raise Conflict(f"that {field} is already registered", code=f"{field}_taken")
            user = User(username=username, email=email, password_hash=password_hash, balance=0, competing=_race_open())
            session.add(user)
            session.flush()
            # The first seed pair's hash is published before the first round.
            fairness.ensure_seed(user.id)
            bonus = current_app.config["SIGNUP_BONUS"]
            if bonus > 0:
                # The wallet wrote the balance; tell the ORM without scheduling a write of its own.
                set_committed_value(user, "balance", wallet.credit(user.id, bonus, type="signup_bonus"))
    except IntegrityError:
        # Lost a race with an identical sign-up between our check and our insert.
        raise Conflict("that username or email is already registered", code="account_taken") from None
    log.info("signup", user_id=user.id)
    return user


def _race_open():
    """True while a tournament every player is in (a race without joining) is open: a new player is in it too."""
    return select(
        exists().where(TournamentPeriod.__table__.c.open_to_all, TournamentPeriod.__table__.c.status == "open")
    ).scalar_subquery()


def get_user(user_id):
    """The user with this id, or NotFound."""
    with atomic() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found", code="user_not_found")
    return user


def usernames(user_ids):
    """{user_id: username} for these users."""
    with atomic() as session:
        return dict(session.execute(select(_users.c.id, _users.c.username).where(_users.c.id.in_(list(user_ids)))).all())


def ranked_usernames(user_ids):
    """{user_id: username} for these users, leaving out those an operator excluded from rankings."""
    with atomic() as session:
        return dict(
            session.execute(
                select(_users.c.id, _users.c.username).where(
                    _users.c.id.in_(list(user_ids)), _users.c.ranking_excluded.is_(False)
                )
            ).all()
        )


def excluded_from_rankings():
    """A select of the ids of the players an operator excluded from leaderboards and tournament standings."""
    return select(_users.c.id).where(_users.c.ranking_excluded.is_(True))


def get_user_by_username(username):
    """The user with this username (any case), or NotFound."""
    with atomic() as session:
        user = session.execute(select(User).where(func.lower(User.username) == username.lower())).scalar_one_or_none()
    if user is None:
        raise NotFound("no such player", code="user_not_found")
    return user


def refuse_if_suspended(suspended_at):
    """Raise for an account an operator suspended (login, token refresh, every stake)."""
    if suspended_at is not None:
        raise Forbidden("this account is suspended by an operator", code="account_suspended")


def role_rank(role):
    """The role's place in ROLES (player 0 < support < risk < admin); -1 for no role."""
    return ROLES.index(role) if role in ROLES else -1


def stored_role(user_id):
    """The account's role as stored now (None for no such account)."""
    with atomic() as session:
        return session.execute(select(_users.c.role).where(_users.c.id == user_id)).scalar_one_or_none()


def require_role(user_id, needed, message=None):
    """Raise Forbidden unless the account's stored role is `needed` or above; return the role.

    A player (or no account) gets `admin_required`: operators only; an operator whose role is
    below the one needed gets `role_required`, naming it.
    """
    role = stored_role(user_id)
    if role_rank(role) >= role_rank(needed):
        return role
    if role_rank(role) <= 0:
        raise Forbidden(message or "only operators can do this", code="admin_required")
    raise Forbidden(f"this needs the operator role {needed} (yours is {role})", code="role_required")


def require_admin(user_id, message="only admins can do this"):
    """Raise Forbidden unless the account exists and its stored role is admin."""
    require_role(user_id, "admin", message)
