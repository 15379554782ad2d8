"""Sessions and their tokens: opening one per login, refreshing, ending, listing.

Every login starts a *session* (a row in `sessions`); every token it issues carries the
session's id as the `sid` claim, so ending the session kills all of them at once.

- Refresh tokens rotate by one atomic claim on the session row: of N concurrent refreshes
  with one token exactly one wins. A token already rotated away, presented again, is a
  replay: the whole session ends (refresh-token reuse detection). The one exception is
  the token rotated away less than REFRESH_REUSE_GRACE_SECONDS ago, which is only refused:
  that is a client retrying a refresh whose answer it lost, or its own parallel requests.
- Ending sessions forgets them at once in this process (`tokens.forget_sessions`) and
  announces `sessions_ended` on the event bus once committed.
"""

import secrets
from datetime import timedelta

import structlog
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import delete, or_, select, update

from ...models import AuthSession, User
from ...models.base import utcnow
from ..core import events
from ..core.errors import NotFound, Unauthorized
from ..core.unit_of_work import after_commit, atomic
from . import accounts
from .tokens import SESSION_ID, forget_sessions

security_log = structlog.get_logger("security")

_users = User.__table__
_sessions = AuthSession.__table__
TOKEN_TYPE = "Bearer"  # nosec B105  # the OAuth token type name, not a secret

# -- sessions and their tokens ----------------------------------------------------------


def _token_claims(user):
    return {"username": user.username, "role": user.role}


def open_session(user_id, *, lifetime, user_agent="", client_address="", refresh_jti=None):
    """Record a new session of the user lasting `lifetime`; return (its id, when it expires).

    A session without `refresh_jti` (a browser's) can never be refreshed: the jti it keeps
    is one no token carries.
    """
    session_id = secrets.token_urlsafe(18)
    now = utcnow()
    expires_at = now + lifetime
    with atomic() as session:
        session.execute(
            _sessions.insert().values(
                id=session_id,
                user_id=user_id,
                user_agent=(user_agent or "")[:256],
                client_address=(client_address or "")[:64],
                created_at=now,
                last_used_at=now,
                expires_at=expires_at,
                refresh_jti=refresh_jti or secrets.token_urlsafe(18),
            )
        )
    return session_id, expires_at


def start_session(user, *, user_agent="", client_address="", role=None):
    """Open a session for `user` (anything with id, username, role); return its token pair."""
    refresh_jti = secrets.token_urlsafe(18)
    session_id, _ = open_session(
        user.id,
        lifetime=current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        user_agent=user_agent,
        client_address=client_address,
        refresh_jti=refresh_jti,
    )
    claims = {**_token_claims(user), "role": role or user.role}
    return _token_pair(user.id, session_id, refresh_jti, claims)


def _live(session_id, user_id, now):
    """The conditions of the user's session row while it has neither ended nor expired."""
    return (
        _sessions.c.id == session_id,
        _sessions.c.user_id == user_id,
        _sessions.c.ended_at.is_(None),
        _sessions.c.expires_at > now,
    )


def _claims_of(username, role, second_factor_at):
    """A session's token claims; `mfa` once its operator proved the second factor (kept across refresh)."""
    claims = {"username": username, "role": role}
    if second_factor_at is not None:
        claims["mfa"] = True
    return claims


def prove_second_factor(user_id, session_id):
    """Record that the session's operator proved their second factor; return a new token pair saying so.

    The refresh token is rotated too, so the chain goes on from tokens that carry the claim.
    """
    now = utcnow()
    new_jti = secrets.token_urlsafe(18)
    with atomic() as session:
        claimed = session.execute(
            update(_sessions)
            .where(*_live(session_id, user_id, now))
            .values(second_factor_at=now, refresh_jti=new_jti, previous_refresh_jti=None, rotated_at=now, last_used_at=now)
        ).rowcount
        user = session.execute(select(_users.c.username, _users.c.role).where(_users.c.id == user_id)).first()
    if claimed != 1 or user is None:
        raise Unauthorized("the session has ended", code="token_revoked")
    return _token_pair(user_id, session_id, new_jti, _claims_of(user.username, user.role, now))


def issue_access_token(user_id, session_id, claims, expires_delta=None):
    """A signed access token of this session carrying `claims` (sub and sid are added)."""
    return create_access_token(
        identity=str(user_id), additional_claims={**claims, "sid": session_id}, expires_delta=expires_delta
    )


def _token_pair(user_id, session_id, refresh_jti, claims):
    return {
        "access_token": issue_access_token(user_id, session_id, claims),
        "refresh_token": create_refresh_token(
            identity=str(user_id), additional_claims={**claims, "sid": session_id, "jti": refresh_jti}
        ),
        "token_type": TOKEN_TYPE,
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def refresh(refresh_claims):
    """Rotate a refresh token in one atomic claim; a replay of a rotated one ends the session."""
    user_id, session_id, presented = int(refresh_claims["sub"]), refresh_claims["sid"], refresh_claims["jti"]
    now = utcnow()
    new_jti = secrets.token_urlsafe(18)
    with atomic() as session:
        claimed = session.execute(
            update(_sessions)
            .where(*_live(session_id, user_id, now), _sessions.c.refresh_jti == presented)
            .values(
                refresh_jti=new_jti,
                previous_refresh_jti=presented,
                rotated_at=now,
                last_used_at=now,
                expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
            )
        ).rowcount
        user = session.execute(
            select(_users.c.username, _users.c.role, _users.c.suspended_at, _sessions.c.second_factor_at)
            .join(_sessions, _sessions.c.user_id == _users.c.id)
            .where(_users.c.id == user_id, _sessions.c.id == session_id)
        ).first()
        if claimed == 1 and user is not None:
            accounts.refuse_if_suspended(user.suspended_at)  # raising here undoes the rotation
    if claimed == 1 and user is not None:
        return _token_pair(user_id, session_id, new_jti, _claims_of(user.username, user.role, user.second_factor_at))
    if claimed == 0:
        _refused_refresh(session_id, user_id, presented, now)
    raise Unauthorized("the account no longer exists", code="invalid_token")


def refresh_explained(refresh_claims):
    """`refresh`, but a refusal of an ended session says why it ended (details.reason: logout, timeout, ...)."""
    try:
        return refresh(refresh_claims)
    except Unauthorized as exc:
        with atomic() as session:
            reason = session.execute(
                select(_sessions.c.end_reason).where(
                    _sessions.c.id == refresh_claims["sid"], _sessions.c.user_id == int(refresh_claims["sub"])
                )
            ).scalar()
        if reason:
            exc.details = {"reason": reason}
        raise


def _refused_refresh(session_id, user_id, presented, now):
    """A refresh token that lost: a retry just after its rotation is refused; any other replay ends the session."""
    with atomic() as session:
        row = session.execute(
            select(_sessions.c.previous_refresh_jti, _sessions.c.rotated_at, _sessions.c.ended_at).where(
                _sessions.c.id == session_id, _sessions.c.user_id == user_id
            )
        ).first()
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    retry = row is not None and row.previous_refresh_jti == presented and row.rotated_at and now - row.rotated_at < grace
    if row is not None and row.ended_at is None and not retry:
        security_log.warning("refresh_token_reused", user_id=user_id, session_id=session_id)
        end_session(session_id, user_id=user_id, reason="refresh_reuse")
    raise Unauthorized("the refresh token has been revoked", code="token_revoked")


def end_session(session_id, *, user_id, reason):
    """End one of the user's sessions (all its tokens stop working); False if there was none live."""
    return bool(_end_sessions(user_id, _sessions.c.id == session_id, reason))


def end_all_sessions(user_id, *, except_session_id=None, reason="logout_everywhere"):
    """End every live session of the user (but `except_session_id`); return how many ended."""
    condition = _sessions.c.id != except_session_id if except_session_id else None
    return len(_end_sessions(user_id, condition, reason))


def _end_sessions(user_id, condition, reason):
    where = [_sessions.c.user_id == user_id, _sessions.c.ended_at.is_(None)]
    if condition is not None:
        where.append(condition)
    with atomic() as session:
        ended = (
            session.execute(
                update(_sessions).where(*where).values(ended_at=utcnow(), end_reason=reason).returning(_sessions.c.id)
            )
            .scalars()
            .all()
        )
        if ended:
            bus = events.bus()
            after_commit(lambda: _announce_ended(bus, user_id, ended, reason))
    return ended


def _announce_ended(bus, user_id, session_ids, reason):
    # Committed: forget here at once, then let the realtime layer tell every process.
    forget_sessions(session_ids)
    security_log.info("sessions_ended", user_id=user_id, sessions=len(session_ids), reason=reason)
    bus.publish(events.SESSIONS_ENDED, {"user_id": user_id, "session_ids": list(session_ids), "reason": reason})


def logout(access_claims):
    """End the session of the presented token: its access and refresh tokens alike."""
    end_session(access_claims["sid"], user_id=int(access_claims["sub"]), reason="logout")


def list_sessions(user_id):
    """The user's live sessions, newest first, as plain rows."""
    with atomic() as session:
        return session.execute(
            select(
                _sessions.c.id,
                _sessions.c.user_agent,
                _sessions.c.client_address,
                _sessions.c.created_at,
                _sessions.c.last_used_at,
                _sessions.c.expires_at,
            )
            .where(_sessions.c.user_id == user_id, _sessions.c.ended_at.is_(None), _sessions.c.expires_at > utcnow())
            .order_by(_sessions.c.created_at.desc(), _sessions.c.id)
        ).all()


def end_own_session(user_id, session_id):
    """End one session the user names; NotFound if it is not theirs or not live."""
    if not SESSION_ID.fullmatch(session_id) or not end_session(session_id, user_id=user_id, reason="ended_by_user"):
        raise NotFound("no such session", code="session_not_found")


def purge_ended_sessions():
    """Delete sessions that ended or expired more than a refresh lifetime ago; return how many."""
    cutoff = utcnow() - current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    with atomic() as session:
        return session.execute(
            delete(_sessions).where(or_(_sessions.c.ended_at < cutoff, _sessions.c.expires_at < cutoff))
        ).rowcount
