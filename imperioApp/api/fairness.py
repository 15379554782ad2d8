"""Provably fair seeds: see the commitment, choose a client seed, rotate, verify."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..games import GAMES
from ..services.identity.tokens import current_user_id
from ..services.money import fairness
from .blueprint import Blueprint

blp = Blueprint("fairness", __name__, description="Provably fair play")

CLIENT_SEED = {"validate": validate.Length(min=1, max=64)}


class ActiveSeedSchema(ma.Schema):
    server_seed_hash = ma.fields.String(required=True, metadata={"description": "SHA-256 of the hidden server seed"})
    client_seed = ma.fields.String(required=True)
    nonce = ma.fields.Integer(required=True, metadata={"description": "nonce of your next round"})


class ClientSeedSchema(ma.Schema):
    client_seed = ma.fields.String(required=True, **CLIENT_SEED)


class RotateSchema(ma.Schema):
    client_seed = ma.fields.String(**CLIENT_SEED)


class RevealedSeedSchema(ma.Schema):
    server_seed = ma.fields.String(required=True)
    server_seed_hash = ma.fields.String(required=True)
    client_seed = ma.fields.String(required=True)
    rounds_played = ma.fields.Integer(required=True)
    revealed_at = ma.fields.String(required=True)


class RotationSchema(ma.Schema):
    revealed = ma.fields.Nested(RevealedSeedSchema, required=True)
    active = ma.fields.Nested(ActiveSeedSchema, required=True)


class VerifySchema(ma.Schema):
    game = ma.fields.String(required=True, validate=validate.OneOf(sorted(GAMES)))
    server_seed = ma.fields.String(required=True, validate=validate.Length(equal=64))
    client_seed = ma.fields.String(required=True, **CLIENT_SEED)
    nonce = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=2**63 - 1))
    inputs = ma.fields.Dict(
        load_default=dict,
        metadata={"description": 'the round\'s inputs: slots {"bet"}, roulette {"bets"}, blackjack {"wager", "actions"}'},
    )


class VerificationSchema(ma.Schema):
    game = ma.fields.String(required=True)
    server_seed_hash = ma.fields.String(required=True)
    client_seed = ma.fields.String(required=True)
    nonce = ma.fields.Integer(required=True)
    outcome = ma.fields.Dict(required=True)
    seed_revealed_here = ma.fields.Boolean(
        required=True, metadata={"description": "this server revealed that seed (its hash is on your rounds)"}
    )


@blp.route("/fairness", methods=["GET"])
@jwt_required()
@blp.response(200, ActiveSeedSchema)
def active_seed():
    """The hash of your active server seed, your client seed and the next nonce."""
    return fairness.current(current_user_id())


@blp.route("/fairness/client-seed", methods=["POST"])
@jwt_required()
@blp.arguments(ClientSeedSchema)
@blp.response(200, ActiveSeedSchema)
def set_client_seed(data):
    """Choose the client seed that your next rounds mix in."""
    return fairness.set_client_seed(current_user_id(), data["client_seed"])


@blp.route("/fairness/rotate", methods=["POST"])
@jwt_required()
@blp.arguments(RotateSchema, required=False)
@blp.response(200, RotationSchema)
def rotate(data):
    """Reveal your server seed and start a new pair at nonce 0."""
    return fairness.rotate(current_user_id(), (data or {}).get("client_seed"))


@blp.route("/fairness/verify", methods=["POST"])
@blp.arguments(VerifySchema)
@blp.response(200, VerificationSchema)
@blp.doc(security=[])
def verify(data):
    """Recompute any round from its revealed server seed, client seed, nonce and inputs."""
    return fairness.verify(data["game"], data["server_seed"], data["client_seed"], data["nonce"], data["inputs"])
