"""Achievements: the catalogue, yours, your progress, and marking them seen."""

import marshmallow as ma
from flask_jwt_extended import jwt_required

from ..services.engagement import achievements
from ..services.identity.tokens import current_user_id
from .blueprint import Blueprint

blp = Blueprint("achievements", __name__, description="Achievements")

# Achievement ids are small; a larger number is simply not one (404 from routing).
ID = "int(min=1, max=2147483647)"


class AchievementSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    threshold = ma.fields.Integer(required=True)
    icon = ma.fields.String(required=True, metadata={"description": "icon key for the frontends"})


class UnlockedAchievementSchema(AchievementSchema):
    unlocked_at = ma.fields.DateTime(required=True)
    seen = ma.fields.Boolean(required=True)


class AchievementProgressSchema(AchievementSchema):
    current = ma.fields.Integer(required=True, metadata={"description": "progress, capped at the threshold"})
    unlocked = ma.fields.Boolean(required=True)


@blp.route("/achievements", methods=["GET"])
@jwt_required()
@blp.response(200, AchievementSchema(many=True))
def catalogue():
    """Every achievement there is."""
    return achievements.list_all()


@blp.route("/achievements/user", methods=["GET"])
@jwt_required()
@blp.response(200, UnlockedAchievementSchema(many=True))
def unlocked():
    """Your unlocked achievements, newest first, with when and whether you have seen them."""
    return achievements.unlocked(current_user_id())


@blp.route("/achievements/progress", methods=["GET"])
@jwt_required()
@blp.response(200, AchievementProgressSchema(many=True))
def progress():
    """Each achievement's progress: your current value against its threshold."""
    return achievements.progress(current_user_id())


@blp.route(f"/achievements/<{ID}:achievement_id>/seen", methods=["POST"])
@jwt_required()
@blp.response(200, UnlockedAchievementSchema)
def mark_seen(achievement_id):
    """Mark one of your unlocked achievements as seen."""
    return achievements.mark_seen(current_user_id(), achievement_id)
