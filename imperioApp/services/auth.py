"""Authentication in one place: login, sessions, tokens, revocation and who a request is.

Every login starts a *session* (a row in `sessions`); every token it issues carries the
session's id as the `sid` claim, so ending the session kills all of them at once, whatever
kind they are (access, refresh, or narrower tokens other modules issue for a session).

- Refresh tokens rotate by one atomic claim on the session row: of N concurrent refreshes
  with one token exactly one wins. A token already rotated away, presented again, is a
  replay: the whole session ends (refresh-token reuse detection). The one exception is
  the token rotated away less than REFRESH_REUSE_GRACE_SECONDS ago, which is only refused:
  that is a client retrying a refresh whose answer it lost, or its own parallel requests.
- A token's session is looked up once per process and then trusted as live for at most
  AUTH_SESSION_CACHE_SECONDS. Ending a session forgets it at once in this process and, via
  the Socket.IO disconnect broadcast, in every process listening to the message queue.
- Login failures are claimed before the password hash is checked (see `login`).
"""

import hashlib
import re
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

import structlog
from flask import current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, decode_token, get_jwt
from flask_jwt_extended import view_decorators as flask_jwt_view_decorators
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import ExpiredSignatureError, InvalidTokenError, PyJWTError
from sqlalchemy import bindparam, delete, func, or_, select, update

from .. import metrics
from ..adapters import driver
from ..models import AuthSession, User
from ..models.base import utcnow
from . import events, passwords, protection, throttle
from .errors import AccountLocked, Forbidden, NotFound, Unauthorized
from .unit_of_work import after_commit, atomic

log = structlog.get_logger(__name__)
security_log = structlog.get_logger("security")

_users = User.__table__
_sessions = AuthSession.__table__
# What a well-formed token names: a numeric user and a session id as this module makes them.
_SUBJECT = re.compile(r"[0-9]{1,18}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
SESSION_ENDED = "sessions_ended"
GAME_SCOPE = "game"
TOKEN_TYPE = "Bearer"  # nosec B105  # the OAuth token type name, not a secret


class VerifiedTokenCache(JWTManager):
    """A JWTManager that verifies each token once per process and remembers the claims.

    Verification (three base64/JSON decodes and an HMAC) was the largest single cost of an
    authenticated request. A remembered token is still refused once expired (it is then
    decoded again, which raises), and its session is checked as `token_is_revoked` says.
    Entries are keyed by the token and the verifying key, so a key change invalidates them.
    Flask-JWT-Extended has no public hook for this, hence the override of its decoder.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, *args, clock=time.time, **kwargs):
        super().__init__(*args, **kwargs)
        self._verified = OrderedDict()
        self.clock = clock  # the epoch seconds a remembered token's expiry is checked against

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        if csrf_value is not None or allow_expired:
            return _well_formed(super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))
        key = (encoded_token, current_app.config["JWT_SECRET_KEY"])
        claims = self._verified.get(key)
        if claims is not None and claims.get("exp", 0) > self.clock():
            return claims
        claims = _well_formed(super()._decode_jwt_from_config(encoded_token))
        self._verified[key] = claims
        if len(self._verified) > self.MAX_ENTRIES:
            self._verified.popitem(last=False)
        return claims


# Flask-JWT-Extended reads a request token's header again after verifying it, through this
# module global; PyJWT then decodes and checks every segment of the token (about a tenth of
# an authenticated request's CPU). The header segment is covered by the signature just
# verified, and this server issues one header, so its parse is kept per header segment.
_HEADERS_KEPT = 16
_parse_header = flask_jwt_view_decorators.get_unverified_jwt_headers
_headers = {}


def _verified_token_header(encoded_token):
    """The header of a token `decode_token` has just verified (parsed once per header segment)."""
    segment = encoded_token.partition(".")[0]
    header = _headers.get(segment)
    if header is None:
        header = _parse_header(encoded_token)
        if len(_headers) < _HEADERS_KEPT:
            _headers[segment] = header
    return dict(header)


flask_jwt_view_decorators.get_unverified_jwt_headers = _verified_token_header


def _well_formed(claims):
    """Refuse a correctly signed token whose claims this server would never have written."""
    subject, session_id = claims.get("sub"), claims.get("sid")
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise InvalidTokenError("the subject is not a user id")
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        raise InvalidTokenError("the token names no session")
    return claims


class LiveSessions:
    """Sessions this process has seen live recently: {sid: (user_id, seen_at)}, bounded."""

    MAX_ENTRIES = 50_000

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._entries = OrderedDict()

    def knows_live(self, session_id, user_id, ttl):
        """True if the session was seen live, for this user, less than `ttl` seconds ago."""
        entry = self._entries.get(session_id)
        return entry is not None and entry[0] == user_id and self._clock() - entry[1] < ttl

    def remember(self, session_id, user_id):
        """Note that the session was just seen live."""
        with self._lock:
            self._entries[session_id] = (user_id, self._clock())
            self._entries.move_to_end(session_id)
            if len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)

    def forget(self, session_ids=(), user_id=None):
        """Forget these sessions (and every session of `user_id`, if given)."""
        with self._lock:
            for session_id in session_ids:
                self._entries.pop(session_id, None)
            if user_id is not None:
                for session_id in [sid for sid, entry in self._entries.items() if entry[0] == user_id]:
                    del self._entries[session_id]


# Every app's cache in this process, so a broadcast heard outside any app reaches them all.
_LIVE_CACHES = weakref.WeakSet()
_EXTENSION = "imperio.live_sessions"

jwt = VerifiedTokenCache()


def init_app(app):
    """Bind the JWT manager and give the app its live-session cache."""
    jwt.init_app(app)
    cache = LiveSessions()
    _LIVE_CACHES.add(cache)
    app.extensions[_EXTENSION] = cache
    jwt.token_in_blocklist_loader(lambda header, claims: token_is_revoked(claims))


def _live_cache():
    return current_app.extensions[_EXTENSION]


def forget_sessions(session_ids=(), user_id=None):
    """Stop trusting these sessions as live in every app of this process (they ended elsewhere)."""
    for cache in list(_LIVE_CACHES):
        cache.forget(session_ids, user_id)


@dataclass(frozen=True)
class Identity:
    """An authenticated user as the realtime layer keeps it per socket."""

    user_id: int
    username: str
    session_id: str = None


# -- who a request is -------------------------------------------------------------------


def current_user_id():
    """The authenticated user's id (the view must be @jwt_required)."""
    return int(get_jwt()["sub"])


def current_session_id():
    """The session of the request's token (the view must be @jwt_required)."""
    return get_jwt()["sid"]


def token_is_revoked(claims):
    """True unless the token's session is live; refresh tokens are judged by `refresh` itself."""
    if claims.get("type") == "refresh":
        return False
    return not session_is_live(claims["sid"], int(claims["sub"]))


# Every live player's requests ask this once per AUTH_SESSION_CACHE_SECONDS in each process.
_LIVE_SESSION_OWNER = driver.Prebuilt(
    select(_sessions.c.user_id).where(
        _sessions.c.id == bindparam("session_id"),
        _sessions.c.ended_at.is_(None),
        _sessions.c.expires_at > bindparam("now"),
    )
)


def session_is_live(session_id, user_id):
    """True if the session exists, belongs to the user, and has not ended or expired."""
    cache = _live_cache()
    if cache.knows_live(session_id, user_id, current_app.config["AUTH_SESSION_CACHE_SECONDS"]):
        return True
    with atomic() as session:
        now = driver.timestamp(driver.dialect_of(session), utcnow())
        row = driver.execute(session, _LIVE_SESSION_OWNER, {"session_id": session_id, "now": now}).fetchone()
    live = row is not None and row[0] == user_id
    if live:
        cache.remember(session_id, user_id)
    return live


def live_access_claims(token):
    """The claims of a valid, unexpired access token of a live session (game tokens included); Unauthorized otherwise."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise Unauthorized("a token (string) is required", code="invalid_token")
    try:
        claims = decode_token(token)
    except ExpiredSignatureError:
        raise Unauthorized("the token has expired", code="token_expired") from None
    except (PyJWTError, JWTExtendedException) as exc:
        raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
    if claims.get("type") != "access":
        raise Unauthorized("an access token is required", code="invalid_token")
    if token_is_revoked(claims):
        raise Unauthorized("the token has been revoked", code="token_revoked")
    return claims


def _username_of(claims):
    with atomic() as session:
        username = session.execute(select(_users.c.username).where(_users.c.id == int(claims["sub"]))).scalar()
    if username is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    return username


def identify(token):
    """The Identity of a valid, unexpired access token of a live session; Unauthorized otherwise."""
    claims = live_access_claims(token)
    if is_game_token(claims):
        raise Unauthorized("a game token works only in the games", code="token_scope")
    return Identity(int(claims["sub"]), _username_of(claims), claims["sid"])


def verify_token_of(token, username):
    """Check that `token` is a live access or game token of the player `username`; Unauthorized otherwise."""
    if _username_of(live_access_claims(token)).lower() != username.strip().lower():
        raise Unauthorized("the token belongs to another player", code="invalid_token")


def is_game_token(claims):
    """True for the claims of a game token (an access token scoped to the old frontends)."""
    return claims.get("scope") == GAME_SCOPE


# -- login and brute-force protection ---------------------------------------------------


def _attempt_keys(identifier, client_address):
    # Keyed by the name typed, not the account: unknown names count and lock exactly alike.
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"login:pair:{digest}:{client_address}", f"login:account:{digest}"


def _claim_attempt(identifier, client_address):
    """Claim one failure slot for (name, address) and one of the name's budget, before hashing.

    Returns the claims to give back if the password turns out right; AccountLocked when
    either is exhausted. Claiming first is what bounds concurrent guesses: 30 parallel
    attempts check at most LOGIN_MAX_FAILURES passwords.
    """
    config = current_app.config
    pair_key, account_key = _attempt_keys(identifier, client_address)
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


def clear_login_failures(names):
    """Forget the failed logins counted against these names (a username, an email), from every address."""
    for name in names:
        pair_prefix, account_key = _attempt_keys(name.strip().lower(), "")
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

    Policy: LOGIN_MAX_FAILURES failures for one name from one address within
    LOGIN_LOCK_MINUTES refuse that pair (the owner elsewhere still logs in); at most
    LOGIN_ACCOUNT_MAX_FAILURES failures for one name from all addresses together within
    LOGIN_ACCOUNT_WINDOW_MINUTES. A success clears its address's failures. Known and
    unknown names get the same answers; every failure is logged (never the password).
    """
    ident = identifier.strip().lower()
    (pair_key, pair), (account_key, budget) = _claim_attempt(ident, client_address)
    with atomic() as session:
        user = session.execute(
            select(User).where(or_(func.lower(User.username) == ident, User.email == ident))
        ).scalar_one_or_none()
    if not passwords.verify_password(user.password_hash if user else None, password):
        metrics.LOGIN_FAILURES.labels("invalid_credentials").inc()
        security_log.warning(
            "login_failed", user_id=user.id if user else None, identifier=identifier[:64], client_address=client_address
        )
        raise Unauthorized("invalid username/email or password", code="invalid_credentials")
    throttle.clear(pair_key)
    throttle.release(account_key, budget)
    protection.refuse_if_suspended(user.suspended_at)  # only once the password is known right
    values = {"last_login_at": utcnow()}
    if passwords.needs_rehash(user.password_hash):
        values["password_hash"] = passwords.hash_password(password)
    with atomic() as session:
        session.execute(update(_users).where(_users.c.id == user.id).values(**values))
    security_log.info("login", user_id=user.id, client_address=client_address)
    return user


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
            .where(
                _sessions.c.id == session_id,
                _sessions.c.user_id == user_id,
                _sessions.c.refresh_jti == presented,
                _sessions.c.ended_at.is_(None),
                _sessions.c.expires_at > now,
            )
            .values(
                refresh_jti=new_jti,
                previous_refresh_jti=presented,
                rotated_at=now,
                last_used_at=now,
                expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
            )
        ).rowcount
        user = session.execute(
            select(_users.c.username, _users.c.role, _users.c.suspended_at).where(_users.c.id == user_id)
        ).first()
        if claimed == 1 and user is not None:
            protection.refuse_if_suspended(user.suspended_at)  # raising here undoes the rotation
    if claimed == 1 and user is not None:
        return _token_pair(user_id, session_id, new_jti, {"username": user.username, "role": user.role})
    if claimed == 0:
        _refused_refresh(session_id, user_id, presented, now)
    raise Unauthorized("the account no longer exists", code="invalid_token")


def refresh_token_claims(encoded):
    """The verified claims of an encoded refresh token (a browser's cookie); Unauthorized otherwise."""
    if not isinstance(encoded, str) or not encoded or len(encoded) > 4096:
        raise Unauthorized("no session on this browser: log in", code="authorization_required")
    try:
        claims = _well_formed(decode_token(encoded))
    except ExpiredSignatureError:
        raise Unauthorized("the session has expired", code="token_expired") from None
    except (PyJWTError, JWTExtendedException) as exc:
        raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
    if claims.get("type") != "refresh":
        raise Unauthorized("a refresh token is required", code="invalid_token")
    return claims


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
    bus.publish(SESSION_ENDED, {"user_id": user_id, "session_ids": list(session_ids), "reason": reason})


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


def change_password(user_id, session_id, current_password, new_password, *, client_address):
    """Replace the password after checking the current one; every other session ends."""
    with atomic() as session:
        user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    # The same claims as a login: a stolen access token is no faster a guessing oracle.
    (pair_key, pair), (account_key, budget) = _claim_attempt(user.username.lower(), client_address)
    if not passwords.verify_password(user.password_hash, current_password):
        security_log.warning("password_change_failed", user_id=user_id, client_address=client_address)
        raise Unauthorized("the current password is wrong", code="invalid_credentials")
    throttle.clear(pair_key)
    throttle.release(account_key, budget)
    new_hash = passwords.hash_password(new_password)
    with atomic() as session:
        session.execute(update(_users).where(_users.c.id == user_id).values(password_hash=new_hash))
        ended = end_all_sessions(user_id, except_session_id=session_id, reason="password_changed")
    security_log.info("password_changed", user_id=user_id, other_sessions_ended=ended)


def confirm_password(user_id, password, *, client_address):
    """Check the player's current password before an irreversible act; Forbidden when wrong.

    Claims a login attempt first, as a login does, so the check is no faster a guessing
    oracle than the login form. 403 (not 401): the session itself stays valid.
    """
    with atomic() as session:
        user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    (pair_key, pair), (account_key, budget) = _claim_attempt(user.username.lower(), client_address)
    if not passwords.verify_password(user.password_hash, password):
        security_log.warning("password_confirmation_failed", user_id=user_id, client_address=client_address)
        raise Forbidden("the password is wrong", code="wrong_password")
    throttle.clear(pair_key)
    throttle.release(account_key, budget)


def purge_ended_sessions():
    """Delete sessions that ended or expired more than a refresh lifetime ago; return how many."""
    cutoff = utcnow() - current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    with atomic() as session:
        return session.execute(
            delete(_sessions).where(or_(_sessions.c.ended_at < cutoff, _sessions.c.expires_at < cutoff))
        ).rowcount
