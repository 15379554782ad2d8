"""Schemas and fields the entry layers share: coins, ids, errors, pagination, sign-up and login.

REST (`api/`), Socket.IO (`realtime/`) and the browser pages (`web/`) validate input with
these, so the three accept exactly the same values; this module sits below all three and
imports none of them.
"""

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from .services.money import wallet

# Ids are BIGINT: a larger number can only be refused, never looked up.
MAX_ID = 2**63 - 1
MAX_PAGE = 100
# Werkzeug's int converter has no upper bound; past BIGINT a lookup would fail in the database.
ID_IN_PATH = f"int(min=1, max={MAX_ID})"


def within_ceiling(value):
    """Refuse a number of coins (either sign) past the balance ceiling, MAX_BALANCE."""
    if abs(value) > wallet.ceiling():
        raise ma.ValidationError(f"Must be at most {wallet.ceiling()} coins.")


class Coins(ma.fields.Integer):
    """A positive whole number of coins, at most the balance ceiling; floats, strings and booleans are refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", [validate.Range(min=1), within_ceiling])
        super().__init__(strict=True, **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """JSON true or false only: 1, "yes" or "true" are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UtcDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 instant (UTC if no offset) between years 1 and 9999 once in UTC.

    `0001-01-01T00:00:00+14:00` parses, but its UTC instant falls before year 1.
    """

    def __init__(self, **kwargs):
        super().__init__(default_timezone=dt.timezone.utc, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ma.ValidationError("Not a representable instant.") from None


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "human-readable explanation"})
    details = ma.fields.Raw(metadata={"description": "per-field validation errors, when any"})


class ErrorSchema(ma.Schema):
    """Every error response: {"error": {"code", "message", "details"?}, "message"}."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)
    message = ma.fields.String(required=True, metadata={"description": "error.message again, for clients that read only this"})


class CoinsSchema(ma.Schema):
    coins = ma.fields.Integer(required=True)


class PageQuerySchema(ma.Schema):
    """Cursor pagination over ids, newest first: pass the previous page's next_cursor."""

    cursor = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "next_cursor of the previous page"}
    )
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE))


USERNAME_PATTERN = r"^[A-Za-z0-9_]{3,32}$"


class SignupSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=validate.Regexp(USERNAME_PATTERN, error="3-32 letters, digits or underscores"),
    )
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, validate=validate.Length(min=8, max=128))


class LoginSchema(ma.Schema):
    username = ma.fields.String(validate=validate.Length(min=1, max=254))
    email = ma.fields.String(validate=validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))

    @ma.validates_schema
    def one_identifier(self, data, **kwargs):
        if ("username" in data) == ("email" in data):
            raise ma.ValidationError("give either username or email", "username")
