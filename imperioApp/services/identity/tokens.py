"""Tokens and who a request is: verifying a bearer token and telling whether its session is live.

Every token this server issues carries its session's id as the `sid` claim (see `sessions`),
so ending the session kills all of them at once, whatever kind they are (access, refresh, or
narrower tokens other modules issue for a session).

- A token's session is looked up once per process and then trusted as live for at most
  AUTH_SESSION_CACHE_SECONDS. Ending a session forgets it at once in this process and, via
  the Socket.IO disconnect broadcast, in every process listening to the message queue.
- A verified token's claims are remembered per process (`speedups.jwt_tokens.VerifiedTokenCache`);
  an expired one is refused all the same.
"""

import re
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import decode_token, get_jwt
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import ExpiredSignatureError, InvalidTokenError, PyJWTError
from sqlalchemy import bindparam, select

from ...adapters import driver
from ...models import AuthSession, User
from ...models.base import utcnow
from ...speedups.jwt_tokens import VerifiedTokenCache
from ..core.errors import Unauthorized
from ..core.unit_of_work import atomic

_users = User.__table__
_sessions = AuthSession.__table__
# What a well-formed token names: a numeric user and a session id as `sessions` makes them.
_SUBJECT = re.compile(r"[0-9]{1,18}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
GAME_SCOPE = "game"


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

jwt = VerifiedTokenCache(check_claims=_well_formed)


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


def is_game_token(claims):
    """True for the claims of a game token (an access token scoped to the old frontends)."""
    return claims.get("scope") == GAME_SCOPE
