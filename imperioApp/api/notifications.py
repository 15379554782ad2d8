"""Your notifications: list, mark one read, mark all read."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint
from marshmallow import validate

from ..services import notifications
from .games import MAX_ID
from .security import current_user_id

blp = Blueprint("notifications", __name__, description="Notifications")

ID = f"int(min=1, max={MAX_ID})"


class NotificationQuerySchema(ma.Schema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "only unread ones"})
    cursor = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True, metadata={"description": "achievement, big_win, system"})
    payload = ma.fields.Dict(required=True)
    created_at = ma.fields.DateTime(required=True)
    read_at = ma.fields.DateTime(allow_none=True, required=True)
    read = ma.fields.Boolean(required=True)


class NotificationPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class ReadAllSchema(ma.Schema):
    updated = ma.fields.Integer(required=True, metadata={"description": "how many were unread"})


@blp.route("/notifications", methods=["GET"])
@jwt_required()
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(query):
    """Your notifications, newest first (unread=true for unread only; follow next_cursor)."""
    return notifications.page(
        current_user_id(), unread_only=query["unread"], before=query.get("cursor"), limit=query["limit"]
    )


@blp.route(f"/notifications/<{ID}:notification_id>/read", methods=["POST"])
@jwt_required()
@blp.response(200, NotificationSchema)
def mark_read(notification_id):
    """Mark one of your notifications read."""
    return notifications.mark_read(current_user_id(), notification_id)


@blp.route("/notifications/read-all", methods=["POST"])
@jwt_required()
@blp.response(200, ReadAllSchema)
def mark_all_read():
    """Mark all your notifications read."""
    return {"updated": notifications.mark_all_read(current_user_id())}
