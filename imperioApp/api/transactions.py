"""Your transaction history and statistics."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint
from marshmallow import validate

from ..models import GAME_TYPES, LEDGER_TYPES
from ..services import statistics, transactions
from ..services.auth import current_user_id
from .schemas import ID_IN_PATH, PageQuerySchema, UtcDateTime

blp = Blueprint("transactions", __name__, description="Transaction history and statistics")



class TransactionQuerySchema(PageQuerySchema):
    type = ma.fields.String(validate=validate.OneOf(LEDGER_TYPES))
    game_type = ma.fields.String(validate=validate.OneOf(GAME_TYPES))
    since = UtcDateTime(data_key="from", metadata={"description": "inclusive; ISO 8601, UTC if no offset; before `to`"})
    until = UtcDateTime(data_key="to", metadata={"description": "exclusive; ISO 8601, UTC if no offset; after `from`"})


class TransactionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "signed: negative leaves the wallet"})
    balance_after = ma.fields.Integer(required=True)
    game_type = ma.fields.String(allow_none=True, required=True)
    round_id = ma.fields.Integer(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)


class TransactionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TransactionSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class StatisticsSchema(ma.Schema):
    games_played = ma.fields.Integer(required=True)
    games_won = ma.fields.Integer(required=True, metadata={"description": "rounds paying more than their bet"})
    win_rate = ma.fields.Float(required=True, metadata={"description": "games_won / games_played, 0..1"})
    total_wagered = ma.fields.Integer(required=True)
    total_won = ma.fields.Integer(required=True, metadata={"description": "coins paid out, stakes included"})
    net = ma.fields.Integer(required=True, metadata={"description": "total_won - total_wagered"})
    biggest_win = ma.fields.Integer(required=True, metadata={"description": "largest net win of one round"})
    current_streak = ma.fields.Integer(required=True, metadata={"description": "rounds won in a row, now"})
    best_streak = ma.fields.Integer(required=True)
    big_wins = ma.fields.Integer(required=True, metadata={"description": "rounds netting BIG_WIN_THRESHOLD or more"})
    signature_hits = ma.fields.Integer(
        required=True, metadata={"description": "naturals (blackjack), three cherries (slots), straight-up hits (roulette)"}
    )


class GameStatisticsSchema(StatisticsSchema):
    game_type = ma.fields.String(required=True)


class StatisticsOverviewSchema(ma.Schema):
    overall = ma.fields.Nested(StatisticsSchema, required=True)
    games = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(StatisticsSchema), required=True)


@blp.route("/transactions", methods=["GET"])
@jwt_required()
@blp.arguments(TransactionQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_transactions(query):
    """Your transactions, newest first (filter by type, game and time; follow next_cursor)."""
    return transactions.history(
        current_user_id(),
        type=query.get("type"),
        game_type=query.get("game_type"),
        since=query.get("since"),
        until=query.get("until"),
        before=query.get("cursor"),
        limit=query["limit"],
    )


@blp.route("/transactions/recent", methods=["GET"])
@jwt_required()
@blp.response(200, TransactionSchema(many=True))
def recent_transactions():
    """Your last ten transactions."""
    return transactions.recent(current_user_id())


@blp.route(f"/transactions/<{ID_IN_PATH}:transaction_id>", methods=["GET"])
@jwt_required()
@blp.response(200, TransactionSchema)
def get_transaction(transaction_id):
    """One of your transactions."""
    return transactions.get(current_user_id(), transaction_id)


@blp.route("/statistics", methods=["GET"])
@jwt_required()
@blp.response(200, StatisticsOverviewSchema)
def get_statistics():
    """Your statistics, overall and per game (up to a second behind the latest round)."""
    return statistics.overview(current_user_id())


@blp.route("/statistics/game/<string:game_type>", methods=["GET"])
@jwt_required()
@blp.response(200, GameStatisticsSchema)
def get_game_statistics(game_type):
    """Your statistics for one game: slots, blackjack or roulette."""
    return statistics.for_game(current_user_id(), game_type)
