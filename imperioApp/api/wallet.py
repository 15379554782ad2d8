"""The wallet balance, as new and old clients read it."""

from flask_jwt_extended import jwt_required

from ..schemas import CoinsSchema
from ..services.core.errors import Gone
from ..services.identity.tokens import current_user_id
from ..services.money import wallet
from .blueprint import Blueprint

blp = Blueprint("wallet", __name__, description="Coins")


@blp.route("/wallet", methods=["GET"])
@jwt_required()
@blp.response(200, CoinsSchema)
def get_wallet():
    """The caller's balance."""
    return {"coins": wallet.balance_of(current_user_id())}


@blp.route("/getCoins", methods=["GET"])
@jwt_required()
@blp.response(200, CoinsSchema)
def get_coins():
    """The caller's balance (the Cherry Charm, blackjack and roulette clients call this)."""
    return {"coins": wallet.balance_of(current_user_id())}


@blp.route("/updateCoins", methods=["POST"])
@blp.response(410)
@blp.doc(security=[], deprecated=True, description="Removed: balances change only through games and the ledger.")
def update_coins():
    """Always refuses: no client may set or add to a balance."""
    raise Gone(
        "updateCoins has been removed: balances change only by playing, and every change is recorded in the ledger",
        code="endpoint_removed",
    )
