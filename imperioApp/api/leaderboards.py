"""Leaderboards: any current board, and where you stand on all of them."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..services.engagement import leaderboards
from ..services.identity.tokens import current_user_id
from .blueprint import Blueprint

blp = Blueprint("leaderboards", __name__, description="Leaderboards")


class LeaderboardQuerySchema(ma.Schema):
    # Free strings: an unknown metric or timeframe is a 400 that lists the valid values.
    metric = ma.fields.String(load_default="total_winnings", metadata={"description": ", ".join(leaderboards.METRICS)})
    timeframe = ma.fields.String(load_default="all_time", metadata={"description": ", ".join(leaderboards.TIMEFRAMES)})
    limit = ma.fields.Integer(load_default=10, validate=validate.Range(min=1, max=leaderboards.MAX_LIMIT))
    cursor = ma.fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=leaderboards.MAX_DEPTH - 1),
        metadata={"description": "next_cursor of the previous page (entries already seen); not with around"},
    )
    around = ma.fields.String(
        validate=validate.OneOf(["me"]),
        metadata={"description": "me: the `limit` places around yours, yours in the middle where it can be (and your rank)"},
    )


class LeaderboardEntrySchema(ma.Schema):
    rank = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    score = ma.fields.Integer(required=True)


class LeaderboardPageSchema(ma.Schema):
    metric = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    period = ma.fields.String(required=True, metadata={"description": "e.g. 2026-11-27, 2026-W48, all"})
    items = ma.fields.List(ma.fields.Nested(LeaderboardEntrySchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)
    rank = ma.fields.Integer(
        allow_none=True, metadata={"description": "around=me: yours (null, with no items, if not on the board)"}
    )


class StandingSchema(ma.Schema):
    metric = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    rank = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "null if not on the board"})
    score = ma.fields.Integer(allow_none=True, required=True)
    above = ma.fields.Nested(LeaderboardEntrySchema, allow_none=True, required=True)
    below = ma.fields.Nested(LeaderboardEntrySchema, allow_none=True, required=True)


@blp.route("/leaderboard", methods=["GET"])
@jwt_required()
@blp.arguments(LeaderboardQuerySchema, location="query")
@blp.response(200, LeaderboardPageSchema)
def board(query):
    """One board, best first: score descending, ties to the earlier account (lower user id); around=me: your window."""
    if query.get("around") == "me":
        return leaderboards.around(query["metric"], query["timeframe"], current_user_id(), limit=query["limit"])
    return leaderboards.page(query["metric"], query["timeframe"], limit=query["limit"], cursor=query["cursor"])


@blp.route("/leaderboard/me", methods=["GET"])
@jwt_required()
@blp.response(200, StandingSchema(many=True))
def me():
    """Your rank and score on every current board, with the players just above and below you."""
    return leaderboards.standing(current_user_id())
