"""The back office's own routes under /admin: the operator's second factor, roles, approvals of
adjustments, the live dashboard, the chat viewer and the audit export.

Every route declares its operator role (`requires`); the second-factor routes are the only
ones a token without the proof of the second factor may call.
"""

import csv
import io

import marshmallow as ma
from flask import Response, current_app
from flask_jwt_extended import get_jwt, get_jwt_identity, verify_jwt_in_request
from marshmallow import validate

from .. import json_codec
from ..extensions import client_address, limiter
from ..models import CHAT_ROOMS, ROLES
from ..schemas import ID_IN_PATH, MAX_ID, PageQuerySchema
from ..services.identity.tokens import current_session_id, current_user_id
from ..services.operators import actions, adjustments, audit, dashboard
from ..services.operators import second_factor as operator_factor
from .admin import (
    PLAYER,
    AccountActionResultSchema,
    AuditQuerySchema,
    BigWinSchema,
    GameRtpSchema,
    ReasonSchema,
    operator,
    requires,
)
from .auth import TokenPairSchema
from .blueprint import Blueprint

blp = Blueprint("back_office", __name__, url_prefix="/admin", description="Operators: sign-in, roles, approvals, dashboard")
ADJUSTMENT = f"/adjustments/<{ID_IN_PATH}:pending_id>"
AUDIT_EXPORT_MAX_ROWS = 10_000


# --- schemas ---------------------------------------------------------------------------


class OperatorStatusSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    second_factor_required = ma.fields.Boolean(required=True)
    second_factor_enrolled = ma.fields.Boolean(required=True)
    second_factor_verified = ma.fields.Boolean(required=True, metadata={"description": "proved in this session"})


class EnrolmentSchema(ma.Schema):
    secret = ma.fields.String(required=True, metadata={"description": "base32, for typing into an authenticator"})
    otpauth_uri = ma.fields.String(required=True)
    qr_svg = ma.fields.String(required=True, metadata={"description": "the otpauth URI as a QR code, an SVG document"})


class CodeSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$"), metadata={"description": "6 digits"})


class SecondFactorProofSchema(ma.Schema):
    code = ma.fields.String(validate=validate.Regexp(r"^[0-9]{6}$"), metadata={"description": "6 digits"})
    recovery_code = ma.fields.String(validate=validate.Length(min=10, max=11), metadata={"description": "instead of code"})

    @ma.validates_schema
    def one_of(self, data, **kwargs):
        """Exactly one of code and recovery_code."""
        if ("code" in data) == ("recovery_code" in data):
            raise ma.ValidationError("give either code or recovery_code", "_schema")


class EnrolledSchema(TokenPairSchema):
    recovery_codes = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "shown once"})


class RoleSchema(ReasonSchema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES), metadata={"description": "player removes every role"})


class ResetResultSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    audit_id = ma.fields.Integer(required=True)


class PendingQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=validate.OneOf(adjustments.STATUSES))


class PendingAdjustmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    amount = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    requested_by = ma.fields.Integer(required=True)
    requested_by_username = ma.fields.String(required=True)
    requested_at = ma.fields.DateTime(required=True)
    decided_by = ma.fields.Integer(allow_none=True, required=True)
    decided_by_username = ma.fields.String(allow_none=True, required=True)
    decided_at = ma.fields.DateTime(allow_none=True, required=True)
    decision_reason = ma.fields.String(allow_none=True, required=True)
    transaction_id = ma.fields.Integer(allow_none=True, required=True)


class PendingPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PendingAdjustmentSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class DecisionResultSchema(PendingAdjustmentSchema):
    balance = ma.fields.Integer(metadata={"description": "after an approval"})
    audit_id = ma.fields.Integer(required=True)


class TodaySchema(ma.Schema):
    rounds = ma.fields.Integer(required=True)
    wagered = ma.fields.Integer(required=True)
    paid = ma.fields.Integer(required=True)
    gross_gaming_revenue = ma.fields.Integer(required=True, metadata={"description": "wagered - paid"})


class PerMinuteSchema(ma.Schema):
    at = ma.fields.DateTime(required=True)
    rounds = ma.fields.Integer(required=True)


class RtpPointSchema(ma.Schema):
    at = ma.fields.DateTime(required=True, metadata={"description": "start of the hour"})
    game_type = ma.fields.String(required=True)
    rounds = ma.fields.Integer(required=True)
    rtp = ma.fields.Float(allow_none=True, required=True)


class AlertSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "ledger_check_failed, rtp_drift or error_rate"})
    message = ma.fields.String(required=True)
    at = ma.fields.DateTime(allow_none=True, required=True)


class DashboardSchema(ma.Schema):
    at = ma.fields.DateTime(required=True)
    today = ma.fields.Nested(TodaySchema, required=True)
    rounds_per_minute = ma.fields.List(ma.fields.Nested(PerMinuteSchema), required=True)
    active_players = ma.fields.Integer(required=True, metadata={"description": "players with a round in 15 minutes"})
    sockets = ma.fields.Integer(required=True, metadata={"description": "sockets connected to this service"})
    published_rtp = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(), required=True)
    rtp_today = ma.fields.List(ma.fields.Nested(GameRtpSchema), required=True)
    rtp_series = ma.fields.List(ma.fields.Nested(RtpPointSchema), required=True)
    biggest_wins = ma.fields.List(ma.fields.Nested(BigWinSchema), required=True)
    error_rate = ma.fields.Float(allow_none=True, required=True, metadata={"description": "5xx share since start"})
    alerts = ma.fields.List(ma.fields.Nested(AlertSchema), required=True)


class ChatQuerySchema(PageQuerySchema):
    room = ma.fields.String(validate=validate.OneOf(CHAT_ROOMS))
    user_id = ma.fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID))


class ChatMessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    room = ma.fields.String(required=True)
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class ChatPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChatMessageSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


# --- the operator's own sign-in --------------------------------------------------------


def _second_factor_limit():
    return current_app.config["RATELIMIT_SECOND_FACTOR"]


def _operator_key():
    """Codes are counted per operator (whatever the address), or per address without a valid token."""
    verify_jwt_in_request(optional=True)
    return f"second-factor:{get_jwt_identity() or client_address()}"


limit_codes = limiter.limit(_second_factor_limit, key_func=_operator_key)


@blp.route("/me", methods=["GET"])
@requires("support", second_factor=False)
@blp.response(200, OperatorStatusSchema)
def me():
    """Who you are as an operator: role, and whether your second factor is required, enrolled and proved."""
    state = operator_factor.status(current_user_id(), get_jwt())
    return {
        "id": current_user_id(),
        "username": get_jwt().get("username", ""),
        "role": state["role"],
        "second_factor_required": state["required"],
        "second_factor_enrolled": state["enrolled"],
        "second_factor_verified": state["verified"],
    }


@blp.route("/second-factor/enrol", methods=["POST"])
@requires("support", second_factor=False)
@blp.response(200, EnrolmentSchema)
def enrol():
    """Start enrolling a TOTP authenticator: a new secret and its QR code (409 already_enrolled)."""
    return operator_factor.begin_enrolment(current_user_id())


@blp.route("/second-factor/enrol/confirm", methods=["POST"])
@limit_codes
@requires("support", second_factor=False)
@blp.arguments(CodeSchema)
@blp.response(200, EnrolledSchema)
def confirm_enrolment(data):
    """Confirm the authenticator with its first code: recovery codes (shown once) and tokens proving the factor."""
    return operator_factor.confirm_enrolment(
        current_user_id(), current_session_id(), data["code"], request_id=operator().request_id
    )


@blp.route("/second-factor/verify", methods=["POST"])
@limit_codes
@requires("support", second_factor=False)
@blp.arguments(SecondFactorProofSchema)
@blp.response(200, TokenPairSchema)
def verify(data):
    """Prove the second factor for this session (a code, or a recovery code, used once): tokens saying so, kept across refresh."""
    return operator_factor.verify(
        current_user_id(), current_session_id(), code=data.get("code"), recovery_code=data.get("recovery_code")
    )


@blp.route(f"{PLAYER}/second-factor/reset", methods=["POST"])
@requires("admin")
@blp.arguments(ReasonSchema)
@blp.response(200, ResetResultSchema)
def reset_second_factor(data, user_id):
    """Clear another operator's second factor (a lost device): they enrol again at their next sign-in. Audited."""
    return operator_factor.reset(operator(), user_id, data["reason"])


@blp.route(f"{PLAYER}/role", methods=["POST"])
@requires("admin")
@blp.arguments(RoleSchema)
@blp.response(200, AccountActionResultSchema)
def set_role(data, user_id):
    """Grant an operator role (support, risk, admin) or remove it (player); audited; never your own."""
    return actions.set_role(operator(), user_id, data["role"], data["reason"])


# --- four eyes -------------------------------------------------------------------------


@blp.route("/adjustments", methods=["GET"])
@requires("admin")
@blp.arguments(PendingQuerySchema, location="query")
@blp.response(200, PendingPageSchema)
def pending_adjustments(query):
    """Adjustments kept for a second admin, newest first (filter by status)."""
    return adjustments.listing(operator(), status=query.get("status"), before=query.get("cursor"), limit=query["limit"])


@blp.route(f"{ADJUSTMENT}/approve", methods=["POST"])
@requires("admin")
@blp.arguments(ReasonSchema)
@blp.response(200, DecisionResultSchema)
def approve_adjustment(data, pending_id):
    """Approve another admin's adjustment: the ledger row is written now, once (409 already_decided after)."""
    return adjustments.approve(operator(), pending_id, data["reason"])


@blp.route(f"{ADJUSTMENT}/reject", methods=["POST"])
@requires("admin")
@blp.arguments(ReasonSchema)
@blp.response(200, DecisionResultSchema)
def reject_adjustment(data, pending_id):
    """Reject a pending adjustment (its requester may withdraw it); nothing moves."""
    return adjustments.reject(operator(), pending_id, data["reason"])


# --- watching --------------------------------------------------------------------------


@blp.route("/dashboard", methods=["GET"])
@requires("support")
@blp.response(200, DashboardSchema)
def live_dashboard():
    """Today's rounds, coins wagered and paid, GGR; rounds per minute; active players and sockets; RTP per hour; alerts."""
    return dashboard.snapshot(operator())


@blp.route("/chat/messages", methods=["GET"])
@requires("support")
@blp.arguments(ChatQuerySchema, location="query")
@blp.response(200, ChatPageSchema)
def chat_messages(query):
    """Stored chat messages with their authors, newest first (filter by room or player)."""
    return actions.chat_messages(
        operator(), room=query.get("room"), user_id=query.get("user_id"), before=query.get("cursor"), limit=query["limit"]
    )


AUDIT_COLUMNS = (
    "id",
    "created_at",
    "admin_id",
    "admin_username",
    "action",
    "target_user_id",
    "target_username",
    "reason",
    "details",
    "request_id",
)


@blp.route("/audit/export", methods=["GET"])
@requires("risk")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, description="text/csv: the filtered trail, newest first, at most 10,000 rows from the cursor")
def audit_export(query):
    """The audit trail as CSV, with the same filters as GET /admin/audit."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for row in audit.export(
        admin_id=query.get("admin_id"),
        target_user_id=query.get("target_user_id"),
        action=query.get("action"),
        before=query.get("cursor"),
        max_rows=AUDIT_EXPORT_MAX_ROWS,
    ):
        writer.writerow([_csv_cell(row[name]) for name in AUDIT_COLUMNS])
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def _csv_cell(value):
    """A cell as text; one a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, dict):
        text = json_codec.dumps(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
