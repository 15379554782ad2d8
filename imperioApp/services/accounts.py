"""Sign-up, login with lockout, token issue/rotation/revocation, and profiles."""

from datetime import timedelta

import structlog
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import metrics
from ..models import User
from ..models.base import utcnow
from . import events, fairness, passwords, tokens, wallet
from .errors import AccountLocked, Conflict, NotFound, Unauthorized
from .unit_of_work import atomic

log = structlog.get_logger(__name__)
security_log = structlog.get_logger("security")

_users = User.__table__
TOKEN_TYPE = "Bearer"  # nosec B105  # the OAuth token type name, not a secret


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
            user = User(username=username, email=email, password_hash=password_hash, balance=0)
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


def login(identifier, password, *, client_address):
    """Check credentials (username or email) and return a fresh token pair."""
    user = authenticate(identifier, password, client_address=client_address)
    return issue_tokens(user.id, user.username, user.role)


def authenticate(identifier, password, *, client_address):
    """Check credentials (username or email) and return the user.

    Five failures in a row lock the account for LOGIN_LOCK_MINUTES; every failure is logged
    as a security event (never the password).
    """
    config = current_app.config
    now = utcnow()
    ident = identifier.strip().lower()
    with atomic() as session:
        user = session.execute(
            select(User).where(or_(func.lower(User.username) == ident, User.email == ident))
        ).scalar_one_or_none()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            retry_after = int((user.locked_until - now).total_seconds()) + 1
            metrics.LOGIN_FAILURES.labels("locked").inc()
            security_log.warning(
                "login_refused_locked", user_id=user.id, client_address=client_address
            )
            raise AccountLocked(
                "too many failed logins: the account is locked, try again later",
                retry_after=retry_after,
            )
        if not passwords.verify_password(user.password_hash if user else None, password):
            locked = user is not None and _record_failure(session, user.id, now, config)
            failed = True
        else:
            failed = False
            values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
            if passwords.needs_rehash(user.password_hash):
                values["password_hash"] = passwords.hash_password(password)
            session.execute(update(_users).where(_users.c.id == user.id).values(**values))
    if failed:
        metrics.LOGIN_FAILURES.labels("invalid_credentials").inc()
        security_log.warning(
            "login_failed",
            user_id=user.id if user else None,
            identifier=identifier[:64],
            client_address=client_address,
            locked=locked,
        )
        raise Unauthorized("invalid username/email or password", code="invalid_credentials")
    security_log.info("login", user_id=user.id, client_address=client_address)
    return user


def _record_failure(session, user_id, now, config):
    """Count a failed login; lock the account at the limit. True if this failure locked it."""
    failures = session.execute(
        update(_users)
        .where(_users.c.id == user_id)
        .values(failed_logins=_users.c.failed_logins + 1)
        .returning(_users.c.failed_logins)
    ).scalar_one()
    if failures < config["LOGIN_MAX_FAILURES"]:
        return False
    metrics.ACCOUNT_LOCKOUTS.inc()
    session.execute(
        update(_users)
        .where(_users.c.id == user_id)
        .values(failed_logins=0, locked_until=now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))
    )
    return True


def issue_tokens(user_id, username, role):
    """A new access token (short-lived) and refresh token (long-lived)."""
    identity = str(user_id)
    claims = {"username": username, "role": role}
    return {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=identity, additional_claims=claims),
        "token_type": TOKEN_TYPE,
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def refresh(refresh_claims):
    """Rotate a refresh token: revoke the presented one and issue a new pair."""
    user_id = int(refresh_claims["sub"])
    with atomic() as session:
        user = session.get(User, user_id)
        if user is None:
            raise Unauthorized("the account no longer exists", code="invalid_token")
        username, role = user.username, user.role
    tokens.revoke(refresh_claims["jti"], user_id, refresh_claims["exp"])
    return issue_tokens(user_id, username, role)


def logout(access_claims, refresh_token=None):
    """Revoke the presented access token and, if given, the user's refresh token."""
    user_id = int(access_claims["sub"])
    tokens.revoke(access_claims["jti"], user_id, access_claims["exp"])
    if refresh_token:
        try:
            claims = decode_token(refresh_token)
        except Exception:
            raise Unauthorized("the refresh token is invalid", code="invalid_token") from None
        if claims.get("type") != "refresh" or claims.get("sub") != access_claims["sub"]:
            raise Unauthorized("that is not your refresh token", code="invalid_token")
        tokens.revoke(claims["jti"], user_id, claims["exp"])
    security_log.info("logout", user_id=user_id)
    # The revocations have committed: the realtime layer now disconnects the user's sockets.
    events.bus().publish("logged_out", {"user_id": user_id})


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


def get_user_by_username(username):
    """The user with this username (any case), or NotFound."""
    with atomic() as session:
        user = session.execute(
            select(User).where(func.lower(User.username) == username.lower())
        ).scalar_one_or_none()
    if user is None:
        raise NotFound("no such player", code="user_not_found")
    return user
