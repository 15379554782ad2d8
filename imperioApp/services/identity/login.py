"""Login and brute-force protection: checking a password before a session starts.

Login failures are claimed before the password hash is checked (see `authenticate`), so
concurrent guesses are bounded; a changed password is checked the same way and ends every
other session of the player.
"""

import hashlib

import structlog
from flask import current_app
from sqlalchemy import func, or_, select, update

from ... import metrics
from ...models import User
from ...models.base import utcnow
from ..core.errors import AccountLocked, Forbidden, Unauthorized
from ..core.unit_of_work import atomic
from . import accounts, passwords, throttle
from .sessions import end_all_sessions, start_session

security_log = structlog.get_logger("security")

_users = User.__table__

# -- login and brute-force protection ---------------------------------------------------


def _subject(user_id, ident):
    """Whose failures a login attempt counts against: the account, whichever of its names was typed.

    A username and an e-mail of one account share one budget; a name that is no account's
    counts under the name typed, so unknown names count and lock exactly like known ones.
    """
    return f"user:{user_id}" if user_id is not None else f"name:{ident}"


def _attempt_keys(subject, client_address):
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"login:pair:{digest}:{client_address}", f"login:account:{digest}"


def _claim_attempt(subject, client_address):
    """Claim one failure slot for (account, address) and one of the account's budget, before hashing.

    Returns the claims to give back if the password turns out right; AccountLocked when
    either is exhausted. Claiming first is what bounds concurrent guesses: 30 parallel
    attempts check at most LOGIN_MAX_FAILURES passwords.
    """
    config = current_app.config
    pair_key, account_key = _attempt_keys(subject, client_address)
    pair, retry_after = throttle.claim(pair_key, config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"] * 60)
    if pair is None:
        raise _locked(retry_after, client_address, "address")
    budget, retry_after = throttle.claim(
        account_key, config["LOGIN_ACCOUNT_MAX_FAILURES"], config["LOGIN_ACCOUNT_WINDOW_MINUTES"] * 60
    )
    if budget is None:
        throttle.release(pair_key, pair)
        raise _locked(retry_after, client_address, "account")
    return (pair_key, pair), (account_key, budget)


def clear_login_failures(user_id):
    """Forget the failed logins counted against the account (typed as username or email), from every address."""
    pair_prefix, account_key = _attempt_keys(_subject(user_id, None), "")
    throttle.clear(account_key)
    throttle.clear_prefix(pair_prefix)


def _locked(retry_after, client_address, scope):
    # Counted at each refusal: the windows slide, so a lock has no single moment it begins.
    metrics.ACCOUNT_LOCKOUTS.inc()
    metrics.LOGIN_FAILURES.labels("locked").inc()
    security_log.warning("login_refused_locked", scope=scope, client_address=client_address)
    return AccountLocked("too many failed logins: try again later", retry_after=int(retry_after) + 1)


def login(identifier, password, *, client_address, user_agent=""):
    """Check credentials (username or email) and start a session; return its token pair."""
    user = authenticate(identifier, password, client_address=client_address)
    return start_session(user, user_agent=user_agent, client_address=client_address)


def authenticate(identifier, password, *, client_address):
    """Check credentials (username or email) and return the user.

    Policy: LOGIN_MAX_FAILURES failures for one account from one address within
    LOGIN_LOCK_MINUTES refuse that pair (the owner elsewhere still logs in); at most
    LOGIN_ACCOUNT_MAX_FAILURES failures for one account from all addresses together within
    LOGIN_ACCOUNT_WINDOW_MINUTES. Its username and its e-mail count as one account. A success
    clears its address's failures. Known and unknown names get the same answers; every failure
    is logged (never the password).
    """
    ident = identifier.strip().lower()
    with atomic() as session:
        user = session.execute(
            select(User).where(or_(func.lower(User.username) == ident, User.email == ident))
        ).scalar_one_or_none()
    (pair_key, pair), (account_key, budget) = _claim_attempt(_subject(user.id if user else None, ident), client_address)
    if not passwords.verify_password(user.password_hash if user else None, password):
        metrics.LOGIN_FAILURES.labels("invalid_credentials").inc()
        security_log.warning(
            "login_failed", user_id=user.id if user else None, identifier=identifier[:64], client_address=client_address
        )
        raise Unauthorized("invalid username/email or password", code="invalid_credentials")
    throttle.clear(pair_key)
    throttle.release(account_key, budget)
    accounts.refuse_if_suspended(user.suspended_at)  # only once the password is known right
    values = {"last_login_at": utcnow()}
    if passwords.needs_rehash(user.password_hash):
        values["password_hash"] = passwords.hash_password(password)
    with atomic() as session:
        session.execute(update(_users).where(_users.c.id == user.id).values(**values))
    security_log.info("login", user_id=user.id, client_address=client_address)
    return user


def confirm_password(user_id, password, *, client_address):
    """Step-up for an act a stolen access token must not do alone: True if `password` is the account's.

    Takes the same claims as a login: a stolen access token is no faster a guessing oracle.
    """
    with atomic() as session:
        user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    (pair_key, pair), (account_key, budget) = _claim_attempt(_subject(user_id, None), client_address)
    if not passwords.verify_password(user.password_hash, password):
        security_log.warning("step_up_failed", user_id=user_id, client_address=client_address)
        return False
    throttle.clear(pair_key)
    throttle.release(account_key, budget)
    return True


def require_password(user_id, password, *, client_address, what):
    """Raise (403) unless `password`, given, is the account's current password; `what` names the act."""
    if password is None:
        raise Forbidden(f"{what} needs your current password", code="password_required")
    if not confirm_password(user_id, password, client_address=client_address):
        raise Forbidden("the current password is wrong", code="wrong_password")


def change_password(user_id, session_id, current_password, new_password, *, client_address):
    """Replace the password after checking the current one; every other session ends."""
    if not confirm_password(user_id, current_password, client_address=client_address):
        security_log.warning("password_change_failed", user_id=user_id, client_address=client_address)
        raise Unauthorized("the current password is wrong", code="invalid_credentials")
    new_hash = passwords.hash_password(new_password)
    with atomic() as session:
        session.execute(update(_users).where(_users.c.id == user_id).values(password_hash=new_hash))
        ended = end_all_sessions(user_id, except_session_id=session_id, reason="password_changed")
    security_log.info("password_changed", user_id=user_id, other_sessions_ended=ended)
