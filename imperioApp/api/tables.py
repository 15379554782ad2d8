"""The open public roulette tables, for a player looking for one to join."""

import marshmallow as ma
from flask_jwt_extended import jwt_required

from ..services.social import tables
from .blueprint import Blueprint

blp = Blueprint("tables", __name__, description="Shared roulette tables")


class OpenTableSchema(ma.Schema):
    room_id = ma.fields.String(required=True)
    host = ma.fields.String(allow_none=True, required=True)
    players = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "usernames, in joining order"})
    seats_taken = ma.fields.Integer(required=True)
    max_players = ma.fields.Integer(required=True)
    betting_open = ma.fields.Boolean(required=True, metadata={"description": "a spin is taking bets now"})
    closes_in = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "whole seconds until betting closes; null: no spin open"}
    )


class OpenTablesSchema(ma.Schema):
    tables = ma.fields.List(ma.fields.Nested(OpenTableSchema), required=True)


@blp.route("/tables", methods=["GET"])
@jwt_required()
@blp.response(200, OpenTablesSchema)
def open_tables():
    """The public roulette tables open now (private ones are joined by invite only); live as `tables_update`."""
    return {"tables": tables.open_tables()}
