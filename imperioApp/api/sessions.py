"""A player's login sessions: list them, end one, end all, and change the password."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..extensions import client_address
from ..services.identity import login, sessions, tokens
from ..services.identity.tokens import current_session_id, current_user_id
from .blueprint import Blueprint

blp = Blueprint("sessions", __name__, description="Login sessions and the password")


class SessionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    user_agent = ma.fields.String(required=True)
    client_address = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    last_used_at = ma.fields.DateTime(required=True, metadata={"description": "the last login or refresh"})
    expires_at = ma.fields.DateTime(required=True)
    current = ma.fields.Boolean(required=True, metadata={"description": "the session of this request's token"})


class EndedSchema(ma.Schema):
    ended = ma.fields.Integer(required=True, metadata={"description": "how many sessions ended"})


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))
    new_password = ma.fields.String(required=True, validate=validate.Length(min=8, max=128))


@blp.route("/sessions", methods=["GET"])
@jwt_required()
@blp.response(200, SessionSchema(many=True))
def list_sessions():
    """The caller's live sessions, newest first."""
    mine = current_session_id()
    return [{**row._asdict(), "current": row.id == mine} for row in sessions.list_sessions(current_user_id())]


@blp.route("/sessions", methods=["DELETE"])
@jwt_required()
@blp.response(200, EndedSchema)
def end_all_sessions():
    """Log out everywhere: end every session of the caller, this one included."""
    return {"ended": sessions.end_all_sessions(current_user_id(), reason="logout_everywhere")}


@blp.route("/sessions/<string(maxlength=64):session_id>", methods=["DELETE"])
@jwt_required()
@blp.response(204)
@blp.doc(parameters=[{"in": "path", "name": "session_id", "schema": {"type": "string", "pattern": tokens.SESSION_ID.pattern}}])
def end_session(session_id):
    """End one of the caller's sessions; its tokens and sockets stop working."""
    sessions.end_own_session(current_user_id(), session_id)


@blp.route("/password", methods=["POST"])
@jwt_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(data):
    """Change the password; every other session of the caller ends."""
    login.change_password(
        current_user_id(),
        current_session_id(),
        data["current_password"],
        data["new_password"],
        client_address=client_address(),
    )
