"""Player profiles: your own in full, anyone's public fields."""

import marshmallow as ma
from flask_jwt_extended import jwt_required

from ..schemas import StrictBoolean
from ..services.engagement import profiles
from ..services.identity.tokens import current_user_id
from .blueprint import Blueprint
from .statistics import StatisticsOverviewSchema

blp = Blueprint("profile", __name__, description="Player profiles")


class AchievementCountSchema(ma.Schema):
    unlocked = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


class RankSchema(ma.Schema):
    metric = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    rank = ma.fields.Integer(allow_none=True, required=True)
    score = ma.fields.Integer(allow_none=True, required=True)


class PublicProfileSchema(ma.Schema):
    username = ma.fields.String(required=True)
    member_since = ma.fields.DateTime(required=True, attribute="created_at")
    achievements = ma.fields.Nested(AchievementCountSchema, required=True)
    public_stats = ma.fields.Boolean(required=True, metadata={"description": "statistics are shown only if true"})
    statistics = ma.fields.Nested(StatisticsOverviewSchema, allow_none=True, required=True)


class OwnProfileSchema(PublicProfileSchema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    coins = ma.fields.Integer(required=True)
    last_login_at = ma.fields.DateTime(allow_none=True)
    ranks = ma.fields.List(ma.fields.Nested(RankSchema), required=True)
    unread_notifications = ma.fields.Integer(required=True)


class ProfileSettingsSchema(ma.Schema):
    public_stats = StrictBoolean(required=True, metadata={"description": "show your statistics on your public profile"})


@blp.route("/profile", methods=["GET"])
@jwt_required()
@blp.response(200, OwnProfileSchema)
def own_profile():
    """Your profile: balance, statistics, achievements, ranks and unread notifications."""
    return profiles.own(current_user_id())


@blp.route("/profile", methods=["PATCH"])
@jwt_required()
@blp.arguments(ProfileSettingsSchema)
@blp.response(200, OwnProfileSchema)
def update_profile(data):
    """Change your profile settings (public_stats)."""
    return profiles.update_settings(current_user_id(), public_stats=data["public_stats"])


@blp.route("/profile/<string:username>", methods=["GET"])
@jwt_required()
@blp.response(200, PublicProfileSchema)
def public_profile(username):
    """Another player's public profile: no email, no balance, statistics only if they opted in."""
    return profiles.public(username)
