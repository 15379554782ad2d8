"""Playing the three games, and recalling past rounds."""

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import jwt_required
from marshmallow import validate

from .. import json_codec
from ..games import roulette
from ..models import GAME_TYPES
from ..schemas import ID_IN_PATH, MAX_ID, Coins, PageQuerySchema
from ..services.identity.tokens import current_user_id
from ..services.rounds import play, recall
from .blueprint import Blueprint
from .idempotency import idempotent

blp = Blueprint("games", __name__, description="Slots, blackjack and roulette")


class FairnessFieldsSchema(ma.Schema):
    server_seed_hash = ma.fields.String(required=True)
    client_seed = ma.fields.String(required=True)
    nonce = ma.fields.Integer(required=True)
    server_seed = ma.fields.String(allow_none=True, metadata={"description": "once the seed is revealed"})
    revealed_at = ma.fields.DateTime(allow_none=True)


# --- slots -----------------------------------------------------------------------------


def _short(value):
    """Refuse an ignored value too large to be what the old client sends."""
    if isinstance(value, (str, list, dict)) and len(value) > 254:
        raise ma.ValidationError("Longer than 254.")


class SpinSchema(ma.Schema):
    bet = Coins(load_default=1, metadata={"description": "coins staked (1 to SLOTS_MAX_BET)"})
    # The Cherry Charm client sends its username here; the token alone decides who plays.
    userId = ma.fields.Raw(
        load_only=True, allow_none=True, validate=_short, metadata={"description": "ignored (old client); at most 254 characters"}
    )


class SpinResultSchema(ma.Schema):
    stopSegments = ma.fields.List(ma.fields.Integer(), required=True, metadata={"description": "reel stops, 15..30"})
    totalCoins = ma.fields.Integer(required=True, metadata={"description": "balance after the spin"})
    fruits = ma.fields.List(ma.fields.String(), required=True)
    combination = ma.fields.String(allow_none=True, required=True)
    multiplier = ma.fields.Integer(required=True)
    bet = ma.fields.Integer(required=True)
    payout = ma.fields.Integer(required=True)
    round_id = ma.fields.Integer(required=True)
    fairness = ma.fields.Nested(FairnessFieldsSchema, required=True)


@blp.route("/spin", methods=["POST"])
@jwt_required()
@idempotent
@blp.arguments(SpinSchema, required=False)
@blp.response(200, SpinResultSchema)
def spin(data, idempotency_key):
    """Spin Cherry Charm (the response keeps the Cherry Charm client's fields)."""
    result = play.spin_slots(current_user_id(), (data or {}).get("bet", 1), idempotency_key=idempotency_key)
    outcome = result.outcome
    # Exactly SpinResultSchema's fields, sent as they are: the game routes skip dumping their
    # answers through marshmallow (20-30 us each); the schemas still document them, and the
    # tests check that every answer is exactly its schema.
    return _json_response(
        {
            "stopSegments": outcome["segments"],
            "totalCoins": result.balance,
            "fruits": outcome["fruits"],
            "combination": outcome["combination"],
            "multiplier": outcome["multiplier"],
            "bet": outcome["bet"],
            "payout": outcome["payout"],
            "round_id": result.round_id,
            "fairness": result.fairness,
        }
    )


# --- blackjack -------------------------------------------------------------------------


class BlackjackStartSchema(ma.Schema):
    wager = Coins(required=True)


class BlackjackActionSchema(ma.Schema):
    action = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "hit, stand, double_down (or double), split"},
    )
    game_id = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "omitted: your newest open round (the old blackjack client sends none)"},
    )


class CardSchema(ma.Schema):
    suit = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    value = ma.fields.Integer(required=True)


class HandResultSchema(ma.Schema):
    hand = ma.fields.Integer()
    result = ma.fields.String()
    wager = ma.fields.Integer()
    payout = ma.fields.Integer()
    value = ma.fields.Integer()


class BlackjackStateSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the game_id for actions"})
    player_hand = ma.fields.List(ma.fields.Nested(CardSchema), required=True)
    player_second_hand = ma.fields.List(ma.fields.Nested(CardSchema), required=True)
    split = ma.fields.Boolean(required=True)
    current_hand = ma.fields.Integer(required=True)
    dealer_hand = ma.fields.List(
        ma.fields.Nested(CardSchema), required=True, metadata={"description": "only the up card until the dealer plays"}
    )
    dealer_value = ma.fields.Integer(required=True)
    player_value = ma.fields.Integer(required=True)
    player_values = ma.fields.List(ma.fields.Integer(), required=True)
    wager = ma.fields.Integer(required=True)
    wagers = ma.fields.List(ma.fields.Integer(), required=True)
    current_wager = ma.fields.Integer(required=True)
    player_coins = ma.fields.Integer(required=True)
    game_over = ma.fields.Boolean(required=True)
    message = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "empty in /blackjack/start (the old client reads any text there as an error)"},
    )
    result_message = ma.fields.String(allow_none=True, metadata={"description": "how the round ended, once it has"})
    can_hit = ma.fields.Boolean(required=True)
    can_stand = ma.fields.Boolean(required=True)
    can_double_down = ma.fields.Boolean(required=True)
    can_split = ma.fields.Boolean(required=True)
    results = ma.fields.List(ma.fields.Nested(HandResultSchema), required=True)
    total_payout = ma.fields.Integer(required=True)
    fairness = ma.fields.Nested(FairnessFieldsSchema, required=True)


def _json_response(payload):
    # The game routes' answers go out through orjson: Flask's encoder cost 2-3 % of a round.
    return current_app.response_class(json_codec.response_body(payload), mimetype="application/json")


def _blackjack_state(result, *, dealt=False):
    # The engine's public view is exactly BlackjackStateSchema's fields but these (see /spin).
    state = {**result.outcome, "id": result.round_id, "player_coins": result.balance, "fairness": result.fairness}
    state["result_message"] = state["message"]
    if dealt:
        # The existing blackjack client shows any message from /blackjack/start as an error.
        state["message"] = ""
    return _json_response(state)


@blp.route("/blackjack/start", methods=["POST"])
@jwt_required()
@idempotent
@blp.arguments(BlackjackStartSchema)
@blp.response(200, BlackjackStateSchema)
def blackjack_start(data, idempotency_key):
    """Deal a blackjack round; naturals are settled at once."""
    result = play.start_blackjack(current_user_id(), data["wager"], idempotency_key=idempotency_key)
    return _blackjack_state(result, dealt=True)


@blp.route("/blackjack/action", methods=["POST"])
@jwt_required()
@idempotent
@blp.arguments(BlackjackActionSchema)
@blp.response(200, BlackjackStateSchema)
def blackjack_action(data, idempotency_key):
    """Hit, stand, double down or split in one of your open games."""
    user_id = current_user_id()
    game_id = data.get("game_id") or recall.latest_open_id(user_id, "blackjack")
    return _blackjack_state(play.act_blackjack(user_id, game_id, data["action"], idempotency_key=idempotency_key))


# --- roulette --------------------------------------------------------------------------


class RouletteBetSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(sorted(roulette.ODDS)))
    numbers = ma.fields.List(ma.fields.Integer(strict=True), validate=validate.Length(max=18))
    index = ma.fields.Integer(strict=True, metadata={"description": "1-3, for dozen and column instead of numbers"})
    amount = Coins(required=True)


class RouletteSpinSchema(ma.Schema):
    # How many bets a spin may hold is the service's rule (ROULETTE_MAX_BETS, too_many_bets),
    # the same for every entry point; MAX_CONTENT_LENGTH bounds what is parsed before it.
    bets = ma.fields.List(ma.fields.Nested(RouletteBetSchema), required=True, validate=validate.Length(min=1))


class PlacedBetSchema(ma.Schema):
    type = ma.fields.String()
    numbers = ma.fields.List(ma.fields.Integer())
    amount = ma.fields.Integer()
    odds = ma.fields.Integer()
    payout = ma.fields.Integer()


class RouletteResultSchema(ma.Schema):
    winning_number = ma.fields.Integer(required=True)
    color = ma.fields.String(required=True)
    bets = ma.fields.List(ma.fields.Nested(PlacedBetSchema), required=True)
    total_bet = ma.fields.Integer(required=True)
    total_win = ma.fields.Integer(required=True)
    new_coins = ma.fields.Integer(required=True)
    round_id = ma.fields.Integer(required=True)
    fairness = ma.fields.Nested(FairnessFieldsSchema, required=True)


def roulette_result(result):
    """The response both roulette endpoints give (the legacy client reads four of its fields)."""
    outcome = result.outcome
    # Exactly RouletteResultSchema's fields (see /spin).
    return _json_response(
        {
            "winning_number": outcome["pocket"],
            "color": outcome["color"],
            "bets": outcome["bets"],
            "total_bet": outcome["total_bet"],
            "total_win": outcome["total_payout"],
            "new_coins": result.balance,
            "round_id": result.round_id,
            "fairness": result.fairness,
        }
    )


@blp.route("/roulette/spin", methods=["POST"])
@jwt_required()
@idempotent
@blp.arguments(RouletteSpinSchema)
@blp.response(200, RouletteResultSchema)
def roulette_spin(data, idempotency_key):
    """Spin European roulette once for a list of bets, paid at standard odds."""
    return roulette_result(play.spin_roulette(current_user_id(), data["bets"], idempotency_key=idempotency_key))


# --- recall ----------------------------------------------------------------------------


class HistoryQuerySchema(PageQuerySchema):
    game_type = ma.fields.String(validate=validate.OneOf(GAME_TYPES))
    status = ma.fields.String(validate=validate.OneOf(("open", "settled")))


class RoundSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    game_type = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    bet = ma.fields.Integer(required=True)
    payout = ma.fields.Integer(required=True)
    net = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    settled_at = ma.fields.DateTime(allow_none=True)
    fairness = ma.fields.Nested(FairnessFieldsSchema, required=True)


class HistoryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RoundSummarySchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class RoundDetailSchema(RoundSummarySchema):
    inputs = ma.fields.Dict(required=True)
    outcome = ma.fields.Dict(required=True)


@blp.route("/games/history", methods=["GET"])
@jwt_required()
@blp.arguments(HistoryQuerySchema, location="query")
@blp.response(200, HistoryPageSchema)
def history(query):
    """Your rounds, newest first (filter by game and status; follow next_cursor)."""
    return recall.history(
        current_user_id(),
        game_type=query.get("game_type"),
        status=query.get("status"),
        before=query.get("cursor"),
        limit=query["limit"],
    )


@blp.route(f"/games/<{ID_IN_PATH}:round_id>", methods=["GET"])
@jwt_required()
@blp.response(200, RoundDetailSchema)
def round_detail(round_id):
    """One of your rounds in full: bets, every step, outcome, payout and fairness inputs."""
    return recall.get_round(current_user_id(), round_id)
