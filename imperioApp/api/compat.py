"""Endpoints kept for the existing roulette frontend's request format."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..schemas import within_ceiling
from ..services.identity import tokens
from ..services.identity.tokens import current_user_id
from ..services.rounds import play
from .blueprint import Blueprint
from .games import RouletteResultSchema, roulette_result
from .idempotency import idempotent

blp = Blueprint("compat", __name__, description="Old clients' request formats")


class LegacyBetSchema(ma.Schema):
    # The old client keeps a 0 entry when a chip is taken back off the table.
    amt = ma.fields.Integer(strict=True, required=True, validate=[validate.Range(min=0), within_ceiling])
    numbers = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": 'covered numbers, e.g. "1,2,3"'}
    )
    odds = ma.fields.Raw(allow_none=True, metadata={"description": "ignored: the server pays its own odds"})
    type = ma.fields.String(
        allow_none=True, validate=validate.Length(max=32), metadata={"description": "ignored: the shape follows from the numbers"}
    )


class LegacyRouletteSchema(ma.Schema):
    # The 0 entries that client leaves behind are dropped; ROULETTE_MAX_BETS counts the bets
    # that stake something (the service's rule, as for /roulette/spin).
    bet = ma.fields.List(ma.fields.Nested(LegacyBetSchema), required=True, validate=validate.Length(min=1))


class VerifyTokenSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=4096))
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


@blp.route("/roulette/action", methods=["POST"])
@jwt_required()
@idempotent
@blp.arguments(LegacyRouletteSchema)
@blp.response(200, RouletteResultSchema)
def roulette_action(data, idempotency_key):
    """Spin for the old roulette client: each bet's shape is read from its numbers."""
    return roulette_result(play.spin_roulette(current_user_id(), data["bet"], legacy=True, idempotency_key=idempotency_key))


@blp.route("/verify-token", methods=["POST"])
@blp.arguments(VerifyTokenSchema)
@blp.response(200, MessageSchema)
@blp.doc(security=[], description="The Cherry Charm client checks its launch token here, sent in the body.")
def verify_token(data):
    """Say whether a token is a live access or game token of that player."""
    tokens.verify_token_of(data["token"], data["username"])
    return {"message": "Token is valid"}
