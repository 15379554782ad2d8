"""Player profiles: your own in full, anyone's public fields."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint

from ..services import accounts
from .security import current_user_id

blp = Blueprint("profile", __name__, description="Player profiles")


class PublicProfileSchema(ma.Schema):
    username = ma.fields.String(required=True)
    member_since = ma.fields.DateTime(required=True, attribute="created_at")


class OwnProfileSchema(PublicProfileSchema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    coins = ma.fields.Integer(required=True, attribute="balance")
    last_login_at = ma.fields.DateTime(allow_none=True)


@blp.route("/profile", methods=["GET"])
@jwt_required()
@blp.response(200, OwnProfileSchema)
def own_profile():
    """The caller's own profile, balance included."""
    return accounts.get_user(current_user_id())


@blp.route("/profile/<string:username>", methods=["GET"])
@jwt_required()
@blp.response(200, PublicProfileSchema)
def public_profile(username):
    """Another player's public profile (no email, no balance)."""
    return accounts.get_user_by_username(username)
