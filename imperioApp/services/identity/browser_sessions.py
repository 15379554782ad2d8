"""Browser sessions (the pages' login) and the game tokens they hand to the old frontends.

A browser session is a login session like an API one (a row in the `sessions` table, opened by `sessions.open_session`); the
web layer keeps its id, user and end time in a signed cookie. Ending it stops a copy of the
cookie and every game token launched from it: a game token carries the session's id as its
`sid` and never outlives it.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from . import sessions, tokens


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


def start(user_id, *, user_agent="", client_address=""):
    """Open a browser session for a player who just logged in or signed up."""
    lifetime = timedelta(seconds=current_app.config["BROWSER_SESSION_TTL"])
    session_id, expires_at = sessions.open_session(
        int(user_id), lifetime=lifetime, user_agent=user_agent, client_address=client_address
    )
    return BrowserSession(session_id, int(user_id), int(expires_at.timestamp()))


def is_live(browser_session):
    """True while the session has neither expired nor been ended."""
    return (
        browser_session.expires_at > time.time()
        and bool(tokens.SESSION_ID.fullmatch(browser_session.id))
        and tokens.session_is_live(browser_session.id, browser_session.user_id)
    )


def end(browser_session):
    """End the session, and with it every game token it launched."""
    sessions.end_session(browser_session.id, user_id=browser_session.user_id, reason="logout")


@dataclass(frozen=True)
class GameToken:
    """A game token and when it expires (Unix seconds)."""

    value: str
    expires_at: int


def issue_game_token(user, browser_session):
    """An access token for the old game frontends: their endpoints only, for a play session."""
    now = int(time.time())
    lifetime = min(current_app.config["GAME_TOKEN_TTL"], browser_session.expires_at - now)
    claims = {"username": user.username, "role": user.role, "scope": tokens.GAME_SCOPE}
    token = sessions.issue_access_token(user.id, browser_session.id, claims, expires_delta=timedelta(seconds=lifetime))
    return GameToken(token, now + lifetime)
