"""Who a bearer token names, for transports that bypass flask_jwt_extended's decorators
(Socket.IO): the same signature, expiry and revocation checks as the REST API."""

from dataclasses import dataclass

from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import ExpiredSignatureError, PyJWTError

from . import accounts, browser_sessions, tokens
from .errors import NotFound, Unauthorized


@dataclass(frozen=True)
class Identity:
    """An authenticated user as the realtime layer keeps it per socket."""

    user_id: int
    username: str


def live_access_claims(token):
    """The claims of a valid, unexpired, unrevoked access token (game tokens included); Unauthorized otherwise."""
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
    if tokens.is_revoked(claims["jti"], "access") or browser_sessions.ended_for(claims):
        raise Unauthorized("the token has been revoked", code="token_revoked")
    return claims


def _user_of(claims):
    try:
        return accounts.get_user(int(claims["sub"]))
    except (NotFound, ValueError):
        raise Unauthorized("the account no longer exists", code="invalid_token") from None


def identify(token):
    """The Identity of a valid, unexpired, unrevoked access token; Unauthorized otherwise."""
    claims = live_access_claims(token)
    if browser_sessions.is_game_token(claims):
        raise Unauthorized("a game token works only in the games", code="token_scope")
    user = _user_of(claims)
    return Identity(user.id, user.username)


def verify_token_of(token, username):
    """Check that `token` is a live access or game token of the player `username`; Unauthorized otherwise."""
    user = _user_of(live_access_claims(token))
    if user.username.lower() != username.strip().lower():
        raise Unauthorized("the token belongs to another player", code="invalid_token")
