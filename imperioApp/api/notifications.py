"""Your notifications: list, mark one read, mark all read."""

import marshmallow as ma
from flask_jwt_extended import jwt_required

from ..schemas import ID_IN_PATH, PageQuerySchema
from ..services.engagement import notifications
from ..services.identity.tokens import current_user_id
from .blueprint import Blueprint

blp = Blueprint("notifications", __name__, description="Notifications")


class NotificationQuerySchema(PageQuerySchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "only unread ones"})


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
    return notifications.page(current_user_id(), unread_only=query["unread"], before=query.get("cursor"), limit=query["limit"])


@blp.route(f"/notifications/<{ID_IN_PATH}:notification_id>/read", methods=["POST"])
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
