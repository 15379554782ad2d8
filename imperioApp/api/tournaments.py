"""Tournaments: listings, one tournament with your entry, joining, standings and results; and the
operators' routes under /admin/tournaments."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..models import GAME_TYPES, PRIZE_MODES, TOURNAMENT_METRICS
from ..schemas import ID_IN_PATH, MAX_ID, MAX_PAGE, PageQuerySchema, StrictBoolean, UtcDateTime
from ..services.competitions import cron, entries, standings, tournaments
from ..services.competitions.tournaments import (
    DESCRIPTION_LENGTH,
    MAX_COUNT,
    MAX_PAYOUT_PLACES,
    MAX_SECONDS,
    TITLE_LENGTH,
)
from ..services.identity.tokens import current_user_id
from ..services.money.wallet import MAX_COINS
from ..services.operators import tournaments as operator_tournaments
from .admin import operator, requires
from .blueprint import Blueprint
from .idempotency import idempotent

blp = Blueprint("tournaments", __name__, description="Tournaments and races")
admin_blp = Blueprint("admin_tournaments", __name__, url_prefix="/admin", description="Operators: tournaments")
TOURNAMENT = f"/tournaments/<{ID_IN_PATH}:tournament_id>"


def _count(low, high, **kwargs):
    return ma.fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


# --- schemas ---------------------------------------------------------------------------


class TournamentQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=validate.OneOf(tournaments.LISTING_STATUSES))
    game_type = ma.fields.String(validate=validate.OneOf(GAME_TYPES))
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "only tournaments you entered"})


class PeriodQuerySchema(ma.Schema):
    period = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_COUNT), metadata={"description": "period number (default: the latest)"}
    )


class StandingsQuerySchema(PeriodQuerySchema):
    around = ma.fields.String(validate=validate.OneOf(["me"]), metadata={"description": "me: the places around yours"})
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "next_cursor of the previous page (a rank)"}
    )


class PrizePoolSchema(ma.Schema):
    mode = ma.fields.String(required=True, validate=validate.OneOf(PRIZE_MODES))
    amount = _count(0, MAX_COINS, metadata={"description": "fixed: the pool the house pays"})
    rake_percent = _count(0, 100, metadata={"description": "entry_fees: the house's share of the fees"})
    guaranteed = _count(0, MAX_COINS, metadata={"description": "entry_fees: the least the pool pays"})


class PrizePoolOutSchema(ma.Schema):
    mode = ma.fields.String(required=True)
    amount = ma.fields.Integer(required=True)
    rake_percent = ma.fields.Integer(required=True)
    guaranteed = ma.fields.Integer(required=True)


class TournamentInputSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=validate.Length(min=TITLE_LENGTH[0], max=TITLE_LENGTH[1]))
    description = ma.fields.String(validate=validate.Length(max=DESCRIPTION_LENGTH))
    game_types = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(GAME_TYPES)),
        validate=validate.Length(min=1, max=len(GAME_TYPES)),
        metadata={"description": "default: every game; shared-table rounds are roulette"},
    )
    metric = ma.fields.String(required=True, validate=validate.OneOf(TOURNAMENT_METRICS))
    multiplier_cap = _count(100, MAX_COINS, metadata={"description": "multiplier_points: most a round scores (x100)"})
    min_bet = _count(1, MAX_COINS)
    min_rounds = _count(1, MAX_COUNT, metadata={"description": "rounds needed to be ranked (default 1)"})
    max_rounds = _count(1, MAX_COUNT, allow_none=True, metadata={"description": "rounds that count per entrant"})
    max_entrants = _count(2, MAX_COUNT, allow_none=True)
    join_required = StrictBoolean(metadata={"description": "false: every player is in (no fee, no cap)"})
    entry_fee = _count(0, MAX_COINS)
    prize_pool = ma.fields.Nested(PrizePoolSchema)
    payouts = ma.fields.List(
        _count(1, 100),
        validate=validate.Length(min=1, max=MAX_PAYOUT_PLACES),
        metadata={"description": "percent of the pool by rank, largest first, adding up to 100"},
    )
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(allow_none=True, metadata={"description": "or duration_seconds; neither: until ended"})
    duration_seconds = _count(60, MAX_SECONDS, allow_none=True)
    repeat_every_seconds = _count(60, MAX_SECONDS, allow_none=True, metadata={"description": "a new period this often"})
    repeat_count = _count(1, MAX_COUNT, allow_none=True, metadata={"description": "periods in all (default: no end)"})
    schedule = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(min=9, max=cron.MAX_LENGTH), validate.Regexp(cron.SHAPE)],
        metadata={
            "description": "a five-field cron expression in UTC (e.g. '0 20 * * *'): each occurrence from starts_at on "
            "starts a period of duration_seconds, which may not exceed the shortest gap between two occurrences "
            "(422 schedule_overlap); instead of repeat_every_seconds",
            "example": "0 20 * * *",
        },
    )


class TournamentChangeSchema(TournamentInputSchema):
    """The fields to change (used partial: none is required)."""


class PeriodSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(allow_none=True, required=True)
    phase = ma.fields.String(required=True, metadata={"description": "upcoming, running, ended, closing, closed or cancelled"})
    entrants = ma.fields.Integer(required=True)
    pool = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "set when the period closes"})


class EntrySchema(ma.Schema):
    score = ma.fields.Integer(required=True)
    rank = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "null until min_rounds are played"})
    rounds = ma.fields.Integer(required=True)


class TournamentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    game_types = ma.fields.List(ma.fields.String(), required=True)
    metric = ma.fields.String(required=True)
    multiplier_cap = ma.fields.Integer(required=True)
    min_bet = ma.fields.Integer(required=True)
    min_rounds = ma.fields.Integer(required=True)
    max_rounds = ma.fields.Integer(allow_none=True, required=True)
    max_entrants = ma.fields.Integer(allow_none=True, required=True)
    join_required = ma.fields.Boolean(required=True)
    entry_fee = ma.fields.Integer(required=True)
    prize_pool = ma.fields.Nested(PrizePoolOutSchema, required=True)
    payouts = ma.fields.List(ma.fields.Integer(), required=True)
    duration_seconds = ma.fields.Integer(allow_none=True, required=True)
    repeat_every_seconds = ma.fields.Integer(allow_none=True, required=True)
    repeat_count = ma.fields.Integer(allow_none=True, required=True)
    schedule = ma.fields.String(allow_none=True, required=True, metadata={"description": "cron expression (UTC), if scheduled"})
    status = ma.fields.String(required=True, metadata={"description": "upcoming, running, finished or cancelled"})
    period = ma.fields.Nested(PeriodSchema, required=True)


class TournamentDetailSchema(TournamentSchema):
    entry = ma.fields.Nested(EntrySchema, allow_none=True, required=True, metadata={"description": "yours, if you joined"})


class TournamentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TournamentSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class JoinResultSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    fee = ma.fields.Integer(required=True)
    balance = ma.fields.Integer(required=True)
    joined_at = ma.fields.DateTime(required=True)


class PlaceSchema(ma.Schema):
    rank = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    score = ma.fields.Integer(required=True)
    rounds = ma.fields.Integer(required=True)


class StandingsSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    phase = ma.fields.String(required=True)
    metric = ma.fields.String(required=True)
    rank = ma.fields.Integer(allow_none=True, metadata={"description": "around=me: yours"})
    items = ma.fields.List(ma.fields.Nested(PlaceSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class ResultSchema(PlaceSchema):
    prize = ma.fields.Integer(required=True)
    paid = ma.fields.Boolean(required=True)


class ResultsSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    phase = ma.fields.String(required=True)
    metric = ma.fields.String(required=True)
    pool = ma.fields.Integer(required=True)
    closed_at = ma.fields.DateTime(allow_none=True, required=True)
    items = ma.fields.List(ma.fields.Nested(ResultSchema), required=True)


class EndResultSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    closed = ma.fields.Boolean(
        required=True, metadata={"description": "false: it closes once the close grace has passed (close-due)"}
    )
    audit_id = ma.fields.Integer(required=True)


class CancelResultSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    refunded = ma.fields.Integer(required=True)
    audit_id = ma.fields.Integer(required=True)


class PreviewPeriodSchema(ma.Schema):
    index = ma.fields.Integer(required=True, metadata={"description": "the period's number"})
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(allow_none=True, required=True)


class PreviewSchema(ma.Schema):
    periods = ma.fields.List(
        ma.fields.Nested(PreviewPeriodSchema),
        required=True,
        metadata={"description": f"the next up to {tournaments.PREVIEW_PERIODS} periods, were it created now"},
    )


class DifferenceSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    live_score = ma.fields.Integer(required=True)
    live_rounds = ma.fields.Integer(required=True)
    recomputed_score = ma.fields.Integer(required=True)
    recomputed_rounds = ma.fields.Integer(required=True)


class CheckSchema(ma.Schema):
    tournament_id = ma.fields.Integer(required=True)
    period = ma.fields.Integer(required=True)
    entries_checked = ma.fields.Integer(required=True)
    ok = ma.fields.Boolean(required=True)
    differences = ma.fields.List(ma.fields.Nested(DifferenceSchema), required=True)


# --- players ---------------------------------------------------------------------------


@blp.route("/tournaments", methods=["GET"])
@jwt_required()
@blp.arguments(TournamentQuerySchema, location="query")
@blp.response(200, TournamentPageSchema)
def listing(query):
    """Tournaments, newest first, with their current period (filter by status, game, your entries)."""
    return tournaments.listing(
        status=query.get("status"),
        game_type=query.get("game_type"),
        user_id=current_user_id(),
        mine=query["mine"],
        before=query.get("cursor"),
        limit=query["limit"],
    )


@blp.route(TOURNAMENT, methods=["GET"])
@jwt_required()
@blp.response(200, TournamentDetailSchema)
def detail(tournament_id):
    """One tournament, its current period and your entry {score, rank, rounds} (null if you are not in it)."""
    return {**tournaments.detail(tournament_id), "entry": standings.my_entry(tournament_id, current_user_id())}


@blp.route(f"{TOURNAMENT}/join", methods=["POST"])
@jwt_required()
@idempotent
@blp.response(201, JoinResultSchema)
@blp.alt_response(409, description="tournament_full, tournament_closed, already_joined or insufficient_funds")
@blp.alt_response(403, description="timed_out, self_excluded or suspended")
def join(tournament_id, idempotency_key):
    """Join the current period; the entry fee is debited (a stake for your wager and loss limits)."""
    return entries.join(current_user_id(), tournament_id, idempotency_key=idempotency_key)


@blp.route(f"{TOURNAMENT}/standings", methods=["GET"])
@jwt_required()
@blp.arguments(StandingsQuerySchema, location="query")
@blp.response(200, StandingsSchema)
def standings_page(query, tournament_id):
    """A period's standings, best first (live while it runs, final once closed); around=me: the places around yours."""
    if query.get("around") == "me":
        return standings.around(tournament_id, current_user_id(), number=query.get("period"), limit=query["limit"])
    return standings.page(tournament_id, number=query.get("period"), cursor=query.get("cursor"), limit=query["limit"])


@blp.route(f"{TOURNAMENT}/results", methods=["GET"])
@jwt_required()
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, ResultsSchema)
def results(query, tournament_id):
    """A closed period's final ranks and prizes (409 period_not_closed before)."""
    return standings.results(tournament_id, number=query.get("period"))


# --- operators -------------------------------------------------------------------------

ADMIN_TOURNAMENT = f"/tournaments/<{ID_IN_PATH}:tournament_id>"


@admin_blp.route("/tournaments", methods=["POST"])
@requires("admin")
@admin_blp.arguments(TournamentInputSchema)
@admin_blp.response(201, TournamentSchema)
def create(data):
    """Define a tournament (audited)."""
    return operator_tournaments.create(operator(), data)


@admin_blp.route("/tournaments/preview", methods=["POST"])
@requires("admin")
@admin_blp.arguments(TournamentInputSchema)
@admin_blp.response(200, PreviewSchema)
def preview(data):
    """The periods a definition would have (validated as for creating it; nothing is written)."""
    return operator_tournaments.preview(operator(), data)


@admin_blp.route(ADMIN_TOURNAMENT, methods=["PATCH"])
@requires("admin")
@admin_blp.arguments(TournamentChangeSchema(partial=True))
@admin_blp.response(200, TournamentSchema)
def change(data, tournament_id):
    """Change a tournament before it starts (409 tournament_closed after)."""
    return operator_tournaments.change(operator(), tournament_id, data)


@admin_blp.route(f"{ADMIN_TOURNAMENT}/end", methods=["POST"])
@requires("admin")
@admin_blp.response(200, EndResultSchema)
def end(tournament_id):
    """End the running period now: final standings from the rounds table, prizes paid once."""
    return operator_tournaments.end(operator(), tournament_id)


@admin_blp.route(f"{ADMIN_TOURNAMENT}/cancel", methods=["POST"])
@requires("admin")
@admin_blp.response(200, CancelResultSchema)
def cancel(tournament_id):
    """Cancel the tournament: no prizes, every entry fee refunded."""
    return operator_tournaments.cancel(operator(), tournament_id)


@admin_blp.route(f"{ADMIN_TOURNAMENT}/check", methods=["GET"])
@requires("risk")
@admin_blp.arguments(PeriodQuerySchema, location="query")
@admin_blp.response(200, CheckSchema)
def check(query, tournament_id):
    """Compare a period's live standings with their recomputation from the rounds table."""
    return operator_tournaments.check(operator(), tournament_id, query.get("period"))
