"""Your transaction history."""

import marshmallow as ma
from flask_jwt_extended import jwt_required
from marshmallow import validate

from ..models import GAME_TYPES, LEDGER_TYPES
from ..schemas import ID_IN_PATH, PageQuerySchema, UtcDateTime
from ..services.identity.tokens import current_user_id
from ..services.money import ledger
from .blueprint import Blueprint

blp = Blueprint("transactions", __name__, description="Transaction history")


class TransactionQuerySchema(PageQuerySchema):
    type = ma.fields.String(validate=validate.OneOf(LEDGER_TYPES))
    game_type = ma.fields.String(validate=validate.OneOf(GAME_TYPES))
    since = UtcDateTime(data_key="from", metadata={"description": "inclusive; ISO 8601, UTC if no offset; not after `to`"})
    until = UtcDateTime(data_key="to", metadata={"description": "exclusive; ISO 8601, UTC if no offset; after `from`"})


class TransactionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "signed: negative leaves the wallet"})
    balance_after = ma.fields.Integer(required=True)
    game_type = ma.fields.String(allow_none=True, required=True)
    round_id = ma.fields.Integer(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)


class TransactionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TransactionSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


@blp.route("/transactions", methods=["GET"])
@jwt_required()
@blp.arguments(TransactionQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_transactions(query):
    """Your transactions, newest first (filter by type, game and time; follow next_cursor)."""
    return ledger.history(
        current_user_id(),
        type=query.get("type"),
        game_type=query.get("game_type"),
        since=query.get("since"),
        until=query.get("until"),
        before=query.get("cursor"),
        limit=query["limit"],
    )


@blp.route("/transactions/recent", methods=["GET"])
@jwt_required()
@blp.response(200, TransactionSchema(many=True))
def recent_transactions():
    """Your last ten transactions."""
    return ledger.recent(current_user_id())


@blp.route(f"/transactions/<{ID_IN_PATH}:transaction_id>", methods=["GET"])
@jwt_required()
@blp.response(200, TransactionSchema)
def get_transaction(transaction_id):
    """One of your transactions."""
    return ledger.get(current_user_id(), transaction_id)
