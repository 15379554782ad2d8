"""Schemas shared across blueprints: coins, errors and pagination."""

import marshmallow as ma
from marshmallow import validate

from ..services.wallet import MAX_COINS


class Coins(ma.fields.Integer):
    """A positive whole number of coins; floats, strings and booleans are refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_COINS))
        super().__init__(strict=True, **kwargs)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "human-readable explanation"})
    details = ma.fields.Raw(metadata={"description": "per-field validation errors, when any"})


class ErrorSchema(ma.Schema):
    """Every error response: {"error": {"code", "message", "details"?}}."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class CoinsSchema(ma.Schema):
    coins = ma.fields.Integer(required=True)
