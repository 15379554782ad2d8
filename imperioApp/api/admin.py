"""The operators' API under /admin: players, ledgers, rounds, adjustments, locks, moderation,
game integrity and the audit trail. Every route declares the stored operator role it needs
(`requires`, exported to OpenAPI as `x-required-role`) and, with OPERATOR_2FA_REQUIRED, a
token of a session whose operator proved the second factor."""

import datetime as dt
from functools import wraps

import marshmallow as ma
from flask import g, jsonify, request
from flask_jwt_extended import get_jwt, jwt_required
from marshmallow import validate

from ..models import GAME_TYPES
from ..schemas import ID_IN_PATH, MAX_ID, MAX_PAGE, PageQuerySchema, within_ceiling
from ..services.identity import accounts
from ..services.identity.tokens import current_user_id
from ..services.money import ledger
from ..services.money.idempotency import InvalidIdempotencyKey
from ..services.operators import actions, adjustments, audit
from ..services.operators import second_factor as operator_factor
from ..services.operators.audit import Operator
from ..services.protection import settings
from ..services.rounds import recall
from .blueprint import Blueprint
from .games import HistoryPageSchema, HistoryQuerySchema, RoundDetailSchema
from .idempotency import idempotent
from .protection import LimitChangePageSchema, ProtectionStatusSchema
from .sessions import SessionSchema
from .statistics import StatisticsOverviewSchema
from .transactions import TransactionPageSchema, TransactionQuerySchema

blp = Blueprint("admin", __name__, url_prefix="/admin", description="Operators (stored role admin)")
PLAYER = f"/players/<{ID_IN_PATH}:user_id>"


def requires(role, *, second_factor=True):
    """Let the route answer only a bearer of the stored operator `role` or above (403 otherwise).

    Checked before the request is parsed, from the database on every request (a demoted
    operator loses the power at once). With `second_factor` (every route but the sign-in's
    own), the token must also carry the proof of the second factor when it is required.
    The role goes into the OpenAPI operation as `x-required-role` and into its description.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            accounts.require_role(current_user_id(), role)
            if second_factor:
                operator_factor.require_proved(get_jwt())
            return view(*args, **kwargs)

        summary, _, rest = (view.__doc__ or "").partition("\n")
        note = f"Needs the operator role `{role}` or above" + (" and the second factor." if second_factor else ".")
        wrapper.__doc__ = f"{summary}\n\n{rest.strip()}\n\n{note}".replace("\n\n\n\n", "\n\n")
        return blp.doc(**{"x-required-role": role})(jwt_required()(wrapper))

    return decorate


def operator():
    """The calling admin and this request's id, for the audit trail."""
    return Operator(current_user_id(), g.get("request_id"))


def require_idempotency_key(view):
    """Money-moving admin routes refuse a request without an Idempotency-Key."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not request.headers.get("Idempotency-Key"):
            raise InvalidIdempotencyKey(
                "an Idempotency-Key header is required for balance adjustments", code="idempotency_key_required"
            )
        return view(*args, **kwargs)

    return wrapper


def _period(field):
    return ma.fields.AwareDateTime(
        data_key=field,
        default_timezone=dt.timezone.utc,
        metadata={"description": "ISO 8601, UTC if no offset; `from` not after `to` (equal: an empty period)"},
    )


# --- schemas ---------------------------------------------------------------------------


class PlayerQuerySchema(PageQuerySchema):
    q = ma.fields.String(
        validate=validate.Length(min=1, max=254), metadata={"description": "part of a username or email, or an id"}
    )


class PlayerSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    balance = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    last_login_at = ma.fields.DateTime(allow_none=True)
    failed_logins = ma.fields.Integer(required=True)
    locked_until = ma.fields.DateTime(allow_none=True, metadata={"description": "login lockout after failures"})
    suspended_at = ma.fields.DateTime(allow_none=True, metadata={"description": "locked by an operator"})
    ranking_excluded = ma.fields.Boolean(required=True, metadata={"description": "left out of leaderboards and tournaments"})


class PlayerPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PlayerSummarySchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class SanctionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    expires_at = ma.fields.DateTime(allow_none=True)
    created_by = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    active = ma.fields.Boolean(required=True)


class PlayerDetailSchema(PlayerSummarySchema):
    protection = ma.fields.Nested(ProtectionStatusSchema, required=True)
    sanctions = ma.fields.List(ma.fields.Nested(SanctionSchema), required=True)


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=3, max=500))


class AdjustmentSchema(ReasonSchema):
    amount = ma.fields.Integer(
        strict=True,
        required=True,
        validate=within_ceiling,
        metadata={"description": "signed coins: positive credits, negative debits; not 0; at most MAX_BALANCE either way"},
    )


class AdjustmentResultSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True)
    balance = ma.fields.Integer(required=True)
    transaction_id = ma.fields.Integer(required=True)
    audit_id = ma.fields.Integer(required=True)


class PendingAdjustmentResultSchema(ma.Schema):
    pending_id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True)
    audit_id = ma.fields.Integer(required=True)


class AccountActionResultSchema(PlayerSummarySchema):
    audit_id = ma.fields.Integer(required=True)


class MuteSchema(ReasonSchema):
    minutes = ma.fields.Integer(strict=True, required=True)


class BanSchema(ReasonSchema):
    minutes = ma.fields.Integer(strict=True, load_default=None, metadata={"description": "omit for good"})


class SanctionResultSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    expires_at = ma.fields.DateTime(allow_none=True)
    audit_id = ma.fields.Integer(required=True)


class LiftResultSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    lifted = ma.fields.Integer(required=True)
    audit_id = ma.fields.Integer(required=True)


class PeriodQuerySchema(ma.Schema):
    since = _period("from")
    until = _period("to")


class WinsQuerySchema(PeriodQuerySchema):
    game_type = ma.fields.String(validate=validate.OneOf(GAME_TYPES))
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE))


class GameRtpSchema(ma.Schema):
    game_type = ma.fields.String(required=True)
    rounds = ma.fields.Integer(required=True)
    wagered = ma.fields.Integer(required=True)
    paid = ma.fields.Integer(required=True)
    rtp = ma.fields.Float(allow_none=True, required=True, metadata={"description": "paid / wagered"})
    published_rtp = ma.fields.Float(allow_none=True, required=True)
    difference = ma.fields.Float(allow_none=True, required=True, metadata={"description": "rtp - published_rtp"})


class RtpReportSchema(ma.Schema):
    since = ma.fields.DateTime(allow_none=True, data_key="from")
    until = ma.fields.DateTime(allow_none=True, data_key="to")
    games = ma.fields.List(ma.fields.Nested(GameRtpSchema), required=True)


class BigWinSchema(ma.Schema):
    round_id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    game_type = ma.fields.String(required=True)
    bet = ma.fields.Integer(required=True)
    payout = ma.fields.Integer(required=True)
    net = ma.fields.Integer(required=True)
    settled_at = ma.fields.DateTime(required=True)


class OffenderSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    balance = ma.fields.Integer(required=True)
    ledger_sum = ma.fields.Integer(required=True)


class LedgerCheckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    players_checked = ma.fields.Integer(required=True)
    offenders = ma.fields.List(ma.fields.Nested(OffenderSchema), required=True)
    audit_id = ma.fields.Integer(required=True)


class AuditQuerySchema(PageQuerySchema):
    admin_id = ma.fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID))
    target_user_id = ma.fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID))
    action = ma.fields.String(validate=validate.Length(min=1, max=40))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    admin_id = ma.fields.Integer(required=True)
    admin_username = ma.fields.String(required=True)
    action = ma.fields.String(required=True)
    target_user_id = ma.fields.Integer(allow_none=True, required=True)
    target_username = ma.fields.String(allow_none=True, required=True)
    reason = ma.fields.String(allow_none=True, required=True)
    details = ma.fields.Dict(allow_none=True, required=True)
    request_id = ma.fields.String(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


# --- players ---------------------------------------------------------------------------


@blp.route("/players", methods=["GET"])
@requires("support")
@blp.arguments(PlayerQuerySchema, location="query")
@blp.response(200, PlayerPageSchema)
def find_players(query):
    """Find players by part of their username or email, or by id; newest first."""
    return actions.find_players(operator(), query.get("q"), before=query.get("cursor"), limit=query["limit"])


@blp.route(PLAYER, methods=["GET"])
@requires("support")
@blp.response(200, PlayerDetailSchema)
def player(user_id):
    """One player: account, balance, lockout, suspension, protection settings and chat sanctions."""
    return actions.player(operator(), user_id)


@blp.route(f"{PLAYER}/ledger", methods=["GET"])
@requires("support")
@blp.arguments(TransactionQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def player_ledger(query, user_id):
    """The player's ledger, newest first (filters and cursor as GET /transactions)."""
    actions.require_player(operator(), user_id)
    return ledger.history(
        user_id,
        type=query.get("type"),
        game_type=query.get("game_type"),
        since=query.get("since"),
        until=query.get("until"),
        before=query.get("cursor"),
        limit=query["limit"],
    )


@blp.route(f"{PLAYER}/rounds", methods=["GET"])
@requires("support")
@blp.arguments(HistoryQuerySchema, location="query")
@blp.response(200, HistoryPageSchema)
def player_rounds(query, user_id):
    """The player's rounds, newest first (filters and cursor as GET /games/history)."""
    actions.require_player(operator(), user_id)
    return recall.history(
        user_id, game_type=query.get("game_type"), status=query.get("status"), before=query.get("cursor"), limit=query["limit"]
    )


@blp.route(f"{PLAYER}/rounds/<{ID_IN_PATH}:round_id>", methods=["GET"])
@requires("support")
@blp.response(200, RoundDetailSchema)
def player_round(user_id, round_id):
    """Recall one of the player's rounds in full: bets, steps, outcome and fairness inputs."""
    actions.require_player(operator(), user_id)
    return recall.get_round(user_id, round_id)


@blp.route(f"{PLAYER}/statistics", methods=["GET"])
@requires("support")
@blp.response(200, StatisticsOverviewSchema)
def player_statistics(user_id):
    """The player's statistics overall and per game."""
    return actions.player_statistics(operator(), user_id)


@blp.route(f"{PLAYER}/limits", methods=["GET"])
@requires("risk")
@blp.response(200, ProtectionStatusSchema)
def player_limits(user_id):
    """The player's limits, exclusion and reality check."""
    actions.require_player(operator(), user_id)
    return settings.status(user_id)


@blp.route(f"{PLAYER}/limits/history", methods=["GET"])
@requires("risk")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, LimitChangePageSchema)
def player_limit_history(query, user_id):
    """The player's own limit changes, newest first."""
    actions.require_player(operator(), user_id)
    return settings.limit_history(user_id, before=query.get("cursor"), limit=query["limit"])


class PlayerSessionSchema(SessionSchema):
    class Meta:
        exclude = ("current",)  # "this request's session" means nothing to an operator


@blp.route(f"{PLAYER}/sessions", methods=["GET"])
@requires("support")
@blp.response(200, PlayerSessionSchema(many=True))
def player_sessions(user_id):
    """The player's live login sessions (device, address, last use), newest first."""
    return actions.player_sessions(operator(), user_id)


@blp.route(f"{PLAYER}/sanctions", methods=["GET"])
@requires("support")
@blp.response(200, SanctionSchema(many=True))
def player_sanctions(user_id):
    """Every chat mute and ban the player had, newest first."""
    actions.require_player(operator(), user_id)
    return actions.sanctions(operator(), user_id)


# --- actions ---------------------------------------------------------------------------


@blp.route(f"{PLAYER}/adjustments", methods=["POST"])
@requires("admin")
@require_idempotency_key
@idempotent
@blp.arguments(AdjustmentSchema)
@blp.response(201, AdjustmentResultSchema)
@blp.alt_response(202, schema=PendingAdjustmentResultSchema, description="kept for a second admin's approval")
def adjust(data, user_id, idempotency_key):
    """Correct a balance through the ledger (type adjustment) with a reason; never below zero.

    Past ADJUSTMENT_APPROVAL_THRESHOLD coins either way, or to your own account, nothing moves
    yet: 202 with the pending request, which another admin approves or rejects.
    """
    result = adjustments.request(operator(), user_id, data["amount"], data["reason"], idempotency_key=idempotency_key)
    if result.pop("status") == "pending":
        # A response of its own: the route's schema is the 201's.
        response = jsonify(PendingAdjustmentResultSchema().dump(result))
        response.status_code = 202
        return response
    return result


def _account_route(suffix, action, summary, role):
    def view(data, user_id):
        return action(operator(), user_id, data["reason"])

    view.__name__ = suffix.replace("/", "_").replace("-", "_")
    view.__doc__ = summary
    decorated = blp.response(200, AccountActionResultSchema)(view)
    decorated = blp.arguments(ReasonSchema)(decorated)
    decorated = requires(role)(decorated)
    blp.route(f"{PLAYER}/{suffix}", methods=["POST"], endpoint=view.__name__)(decorated)


_account_route("lock", actions.lock_account, "Suspend the account: no login or play; live sockets are ended.", "risk")
_account_route("unlock", actions.unlock_account, "Lift an operator's suspension.", "risk")
_account_route("sessions/end", actions.end_sessions, "End the player's live sessions (sockets disconnected).", "support")
_account_route("lockout/reset", actions.reset_lockout, "Clear failed logins and the login lockout.", "support")
_account_route(
    "exclusion/lift",
    actions.lift_exclusion,
    "Lift a time-out or self-exclusion made in error, within 24 hours of it (EXCLUSION_LIFT_WINDOW_HOURS); "
    "409 nothing_to_lift otherwise. Audited with its reason.",
    "risk",
)
_account_route(
    "rankings/exclude",
    actions.exclude_from_rankings,
    "Leave the player out of leaderboards and tournament standings and prizes until included again.",
    "risk",
)
_account_route("rankings/include", actions.include_in_rankings, "Undo an exclusion from rankings.", "risk")


@blp.route(f"{PLAYER}/chat/mute", methods=["POST"])
@requires("support")
@blp.arguments(MuteSchema)
@blp.response(200, SanctionResultSchema)
def chat_mute(data, user_id):
    """Mute the player in chat for `minutes` (the service the Socket.IO event uses)."""
    return actions.chat_sanction(operator(), user_id, "mute", data["minutes"], data["reason"])


@blp.route(f"{PLAYER}/chat/ban", methods=["POST"])
@requires("risk")
@blp.arguments(BanSchema)
@blp.response(200, SanctionResultSchema)
def chat_ban(data, user_id):
    """Ban the player from chat for `minutes`, or for good; their sockets leave chat at once."""
    return actions.chat_sanction(operator(), user_id, "ban", data["minutes"], data["reason"])


@blp.route(f"{PLAYER}/chat/unmute", methods=["POST"])
@requires("support")
@blp.arguments(ReasonSchema)
@blp.response(200, LiftResultSchema)
def chat_unmute(data, user_id):
    """Lift the player's chat mutes."""
    return actions.chat_lift(operator(), user_id, "mute", data["reason"])


@blp.route(f"{PLAYER}/chat/unban", methods=["POST"])
@requires("risk")
@blp.arguments(ReasonSchema)
@blp.response(200, LiftResultSchema)
def chat_unban(data, user_id):
    """Lift the player's chat bans."""
    return actions.chat_lift(operator(), user_id, "ban", data["reason"])


# --- integrity and audit ---------------------------------------------------------------


@blp.route("/games/rtp", methods=["GET"])
@requires("support")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, RtpReportSchema)
def game_rtp(query):
    """Each game's coins wagered and paid over [from, to) and the RTP, against the published RTP."""
    return actions.game_rtp(operator(), query.get("since"), query.get("until"))


@blp.route("/games/biggest-wins", methods=["GET"])
@requires("support")
@blp.arguments(WinsQuerySchema, location="query")
@blp.response(200, BigWinSchema(many=True))
def biggest_wins(query):
    """The largest net wins over [from, to), largest first."""
    return actions.biggest_wins(
        operator(), query.get("since"), query.get("until"), game_type=query.get("game_type"), limit=query["limit"]
    )


@blp.route("/ledger/check", methods=["POST"])
@requires("risk")
@blp.response(200, LedgerCheckSchema)
def ledger_check():
    """Check balance == SUM(ledger) for every player now, and list any offender."""
    return actions.check_ledger(operator())


@blp.route("/audit", methods=["GET"])
@requires("risk")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
def audit_trail(query):
    """Every operator action, newest first (filter by admin, target or action)."""
    return audit.listing(
        admin_id=query.get("admin_id"),
        target_user_id=query.get("target_user_id"),
        action=query.get("action"),
        before=query.get("cursor"),
        limit=query["limit"],
    )
