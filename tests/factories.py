"""Factories for test data, built through the same services the API uses."""

import itertools
from dataclasses import dataclass, field

import jwt

from imperioApp.services.identity import accounts, sessions
from imperioApp.services.money import wallet

_sequence = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


@dataclass
class Player:
    id: int
    username: str
    email: str
    password: str
    tokens: dict = field(repr=False)

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    @property
    def session_id(self):
        """The session the player's tokens name."""
        return jwt.decode(self.tokens["access_token"], options={"verify_signature": False})["sid"]

    @property
    def refresh_headers(self):
        return {"Authorization": f"Bearer {self.tokens['refresh_token']}"}


def make_player(app, *, username=None, email=None, password=DEFAULT_PASSWORD, balance=None, role="player"):
    """Sign a player up (bonus through the ledger) and, if asked, move the balance to `balance`."""
    n = next(_sequence)
    username = username or f"player{n}"
    email = email or f"{username.lower()}@example.com"
    with app.app_context():
        user = accounts.signup(username, email, password)
        if balance is not None and balance != user.balance:
            difference = balance - user.balance
            if difference > 0:
                wallet.credit(user.id, difference, type="adjustment")
            else:
                wallet.debit(user.id, -difference, type="adjustment")
        tokens = sessions.start_session(user, user_agent="tests", client_address="127.0.0.1", role=role)
    return Player(user.id, username, email, password, tokens)


def access_token(app, player, expires_delta=None, **claims):
    """Another access token of the player's session (for expiry and claim tests)."""
    with app.app_context():
        return sessions.issue_access_token(player.id, player.session_id, claims, expires_delta=expires_delta)


def log_in_again(app, player):
    """Give the player the tokens of a fresh session (theirs were ended); return the player."""
    with app.app_context():
        player.tokens = sessions.start_session(accounts.get_user(player.id), user_agent="tests", client_address="127.0.0.1")
    return player
