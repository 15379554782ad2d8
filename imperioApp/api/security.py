"""Where a game token may be used: the old frontends' endpoints only (an HTTP routing rule)."""

from flask import request

from ..services.identity.tokens import is_game_token

# What the old Cherry Charm, blackjack and roulette frontends call (and /verify-token, which
# reads its token from the body).
GAME_TOKEN_ENDPOINTS = frozenset(
    {"wallet.get_coins", "games.spin", "games.blackjack_start", "games.blackjack_action", "compat.roulette_action"}
)
GAME_TOKEN_REFUSED = "a game token works only on /getCoins, /spin, /blackjack/start, /blackjack/action and /roulette/action"  # nosec B105  # an error message


def game_token_allowed_here(claims):
    """False for a game token presented anywhere but the old frontends' endpoints."""
    return not is_game_token(claims) or request.endpoint in GAME_TOKEN_ENDPOINTS
