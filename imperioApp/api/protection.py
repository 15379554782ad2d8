"""Your protection: loss and wager limits, a reality check, a time-out or self-exclusion."""

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..extensions import client_address
from ..models import LIMIT_KINDS, LIMIT_PERIODS
from ..schemas import PageQuerySchema, StrictBoolean
from ..services.identity.tokens import current_user_id
from ..services.protection import enforcement, settings
from .blueprint import Blueprint

blp = Blueprint("protection", __name__, description="Responsible gaming: limits, reality check, breaks")


class LimitSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "loss or wager"})
    period = ma.fields.String(required=True, metadata={"description": "day, week or month (UTC)"})
    amount = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "in force now; null: none"})
    used = ma.fields.Integer(required=True, metadata={"description": "wagered, or net loss, this period"})
    resets_at = ma.fields.DateTime(required=True)
    pending_amount = ma.fields.Integer(allow_none=True, required=True)
    pending_at = ma.fields.DateTime(allow_none=True, required=True, metadata={"description": "when a raise or removal applies"})


class ExclusionSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    until = ma.fields.DateTime(allow_none=True, required=True, metadata={"description": "null: permanent"})


class RealityNoticeSchema(ma.Schema):
    session_started_at = ma.fields.String(required=True)
    elapsed_seconds = ma.fields.Integer(required=True)
    net = ma.fields.Integer(required=True, metadata={"description": "coins won (+) or lost (-) this session"})
    acknowledge = ma.fields.String(required=True)


class RealityStatusSchema(ma.Schema):
    interval_minutes = ma.fields.Integer(required=True)
    next_check_at = ma.fields.DateTime(allow_none=True, required=True)
    due = ma.fields.Boolean(required=True)
    notice = ma.fields.Nested(RealityNoticeSchema, allow_none=True, required=True)


class ProtectionStatusSchema(ma.Schema):
    limits = ma.fields.List(ma.fields.Nested(LimitSchema), required=True)
    exclusion = ma.fields.Nested(ExclusionSchema, allow_none=True, required=True)
    reality_check = ma.fields.Nested(RealityStatusSchema, allow_none=True, required=True)
    suspended = ma.fields.Boolean(required=True)
    may_play = ma.fields.Boolean(required=True)


class SetLimitSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(LIMIT_KINDS))
    period = ma.fields.String(required=True, validate=validate.OneOf(LIMIT_PERIODS))
    amount = ma.fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=settings.MAX_LIMIT),
        metadata={"description": "coins; null removes the limit (after the delay)"},
    )
    password = ma.fields.String(
        validate=validate.Length(min=1, max=128),
        metadata={"description": "your current password: required to raise or remove a limit in force"},
    )


class LimitChangeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    previous = ma.fields.Integer(allow_none=True, required=True)
    requested = ma.fields.Integer(allow_none=True, required=True)
    effective_at = ma.fields.DateTime(required=True)
    created_at = ma.fields.DateTime(required=True)


class LimitChangePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LimitChangeSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class TimeoutSchema(ma.Schema):
    hours = ma.fields.Integer(
        strict=True, required=True, validate=validate.Range(min=settings.TIMEOUT_HOURS[0], max=settings.TIMEOUT_HOURS[1])
    )


class SelfExclusionSchema(ma.Schema):
    months = ma.fields.Integer(
        strict=True, validate=validate.Range(min=settings.SELF_EXCLUSION_MONTHS[0], max=settings.SELF_EXCLUSION_MONTHS[1])
    )
    permanent = StrictBoolean(load_default=False)
    password = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "your current password: self-exclusion cannot be undone"},
    )

    @ma.validates_schema
    def one_of_them(self, data, **kwargs):
        if ("months" in data) == bool(data.get("permanent")):
            raise ma.ValidationError("give months (6-60) or permanent: true", field_name="months")


class RealityCheckSchema(ma.Schema):
    minutes = ma.fields.Integer(
        strict=True, required=True, allow_none=True, metadata={"description": "interval; null turns the check off"}
    )


class AcknowledgedSchema(ma.Schema):
    next_check_at = ma.fields.DateTime(required=True)


class RealityCheckSetSchema(ma.Schema):
    minutes = ma.fields.Integer(allow_none=True, required=True)


@blp.route("/protection", methods=["GET"])
@jwt_required()
@blp.response(200, ProtectionStatusSchema)
def status():
    """Your limits (with what this period used), exclusion, reality check and whether you may play."""
    return settings.status(current_user_id())


@blp.route("/protection/limits", methods=["PUT"])
@jwt_required()
@blp.arguments(SetLimitSchema)
@blp.response(200, LimitSchema)
def set_limit(data):
    """Set or remove one limit: lower applies at once, higher or removed after LIMIT_RAISE_DELAY_HOURS."""
    return settings.set_limit(
        current_user_id(),
        data["kind"],
        data["period"],
        data["amount"],
        password=data.get("password"),
        client_address=client_address(),
    )


@blp.route("/protection/limits/history", methods=["GET"])
@jwt_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, LimitChangePageSchema)
def limit_history(query):
    """Every limit change you asked for, newest first."""
    return settings.limit_history(current_user_id(), before=query.get("cursor"), limit=query["limit"])


@blp.route("/protection/timeout", methods=["POST"])
@jwt_required()
@blp.arguments(TimeoutSchema)
@blp.response(201, ExclusionSchema)
def take_timeout(data):
    """Take a break of 24 hours to 6 weeks: at once, not undoable; you can still log in to see history and balance."""
    return settings.exclude(current_user_id(), "timeout", hours=data["hours"])


@blp.route("/protection/self-exclusion", methods=["POST"])
@jwt_required()
@blp.arguments(SelfExclusionSchema)
@blp.response(201, ExclusionSchema)
def self_exclude(data):
    """Exclude yourself for 6 months to 5 years, or for good: at once, not undoable; you can still log in to look.

    Needs your current `password`: a wrong one is 403 `wrong_password` and nothing is written.
    """
    return settings.self_exclude(
        current_user_id(),
        data["password"],
        months=data.get("months"),
        permanent=data["permanent"],
        client_address=client_address(),
    )


@blp.route("/protection/reality-check", methods=["PUT"])
@jwt_required()
@blp.arguments(RealityCheckSchema)
@blp.response(200, RealityCheckSetSchema)
def set_reality_check(data):
    """Be shown your session's elapsed time and net position every `minutes` of play (null: off)."""
    return {"minutes": settings.set_reality_check(current_user_id(), data["minutes"])}


@blp.route("/protection/reality-check/acknowledge", methods=["POST"])
@jwt_required()
@blp.response(200, AcknowledgedSchema)
def acknowledge():
    """You have seen the reality check: the next is due an interval from now."""
    return settings.acknowledge_reality_check(current_user_id())


def attach_reality_check(response):
    """after_request: add a due reality check to the JSON object this request's settlement answered with."""
    notice = enforcement.take_notice()
    if notice is None or not response.is_json or response.status_code >= 300:
        return response
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body["reality_check"] = notice
        response.set_data(current_app.json.dumps(body))
    return response
