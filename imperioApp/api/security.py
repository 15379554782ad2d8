"""Who is calling: the JWT identity, as a user id; where a game token may be used."""

from flask import request
from flask_jwt_extended import get_jwt_identity

from ..services.browser_sessions import is_game_token

# What the old Cherry Charm, blackjack and roulette frontends call (and /verify-token, which
# reads its token from the body).
GAME_TOKEN_ENDPOINTS = frozenset(
    {"wallet.get_coins", "games.spin", "games.blackjack_start", "games.blackjack_action", "compat.roulette_action"}
)
GAME_TOKEN_REFUSED = "a game token works only on /getCoins, /spin, /blackjack/start, /blackjack/action and /roulette/action"  # nosec B105  # an error message


def current_user_id():
    """The authenticated user's id (the view must be @jwt_required)."""
    return int(get_jwt_identity())


def game_token_allowed_here(claims):
    """False for a game token presented anywhere but the old frontends' endpoints."""
    return not is_game_token(claims) or request.endpoint in GAME_TOKEN_ENDPOINTS
