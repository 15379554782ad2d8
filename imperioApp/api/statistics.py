"""Your statistics, overall and per game."""

import marshmallow as ma
from flask_jwt_extended import jwt_required

from ..services.engagement import statistics
from ..services.identity.tokens import current_user_id
from .blueprint import Blueprint

blp = Blueprint("statistics", __name__, description="Statistics")


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
