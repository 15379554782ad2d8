"""Browser sessions (the pages' login) and the game tokens they hand to the old frontends.

A browser session is an id, its user and its end time; the web layer keeps it in a signed
cookie. Ending it records the id with the token revocations, so a copy of the cookie stops
working and so does every game token launched from it: a game token carries its session's id
and never outlives it.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_jwt_extended import create_access_token

from . import tokens

GAME_SCOPE = "game"
SESSION_CLAIM = "browser_session"


@dataclass(frozen=True)
class BrowserSession:
    """One login through the pages."""

    id: str
    user_id: int
    expires_at: int  # Unix seconds

    def as_dict(self):
        """What the cookie stores."""
        return {"id": self.id, "user_id": self.user_id, "expires_at": self.expires_at}

    @classmethod
    def from_dict(cls, data):
        """The session a cookie names, or None if the cookie holds none (or garbage)."""
        try:
            return cls(str(data["id"]), int(data["user_id"]), int(data["expires_at"]))
        except (KeyError, TypeError, ValueError):
            return None


def start(user_id):
    """Open a browser session for a player who just logged in or signed up."""
    ttl = current_app.config["BROWSER_SESSION_TTL"]
    return BrowserSession(secrets.token_urlsafe(24), int(user_id), int(time.time()) + ttl)


def is_live(browser_session):
    """True while the session has neither expired nor been ended."""
    return browser_session.expires_at > time.time() and not tokens.is_revoked(browser_session.id)


def end(browser_session):
    """End the session, and with it every game token it launched."""
    tokens.revoke(browser_session.id, browser_session.user_id, browser_session.expires_at)


def ended_for(claims):
    """True if these token claims belong to a browser session that has been ended."""
    session_id = claims.get(SESSION_CLAIM)
    return bool(session_id) and tokens.is_revoked(session_id)


@dataclass(frozen=True)
class GameToken:
    """A game token and when it expires (Unix seconds)."""

    value: str
    expires_at: int


def issue_game_token(user, browser_session):
    """An access token for the old game frontends: their endpoints only, for a play session."""
    now = int(time.time())
    lifetime = min(current_app.config["GAME_TOKEN_TTL"], browser_session.expires_at - now)
    claims = {"username": user.username, "role": user.role, "scope": GAME_SCOPE, SESSION_CLAIM: browser_session.id}
    token = create_access_token(identity=str(user.id), additional_claims=claims, expires_delta=timedelta(seconds=lifetime))
    return GameToken(token, now + lifetime)


def is_game_token(claims):
    """True for the claims of a game token."""
    return claims.get("scope") == GAME_SCOPE
