"""Sign-up, login, token refresh and logout."""

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import get_jwt, jwt_required
from marshmallow import validate

from ..extensions import client_address, limiter, user_agent
from ..schemas import LoginSchema, SignupSchema
from ..services.identity import accounts, sessions
from ..services.identity.login import login as log_in
from .blueprint import Blueprint

blp = Blueprint("auth", __name__, description="Accounts and tokens")

PUBLIC = {"security": []}


class LogoutSchema(ma.Schema):
    refresh_token = ma.fields.String(validate=validate.Length(max=4096))


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class SignupResultSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    coins = ma.fields.Integer(required=True, attribute="balance")


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def _signup_limit():
    return current_app.config["RATELIMIT_SIGNUP"]


@blp.route("/signup", methods=["POST"])
@limiter.limit(_signup_limit)
@blp.arguments(SignupSchema)
@blp.response(201, SignupResultSchema)
@blp.doc(**PUBLIC)
def signup(data):
    """Create an account; the sign-up bonus arrives as a ledger entry."""
    return accounts.signup(data["username"], data["email"], data["password"])


@blp.route("/login", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.doc(**PUBLIC)
def login(data):
    """Exchange a username (or email) and password for an access and a refresh token."""
    identifier = data.get("username") or data["email"]
    return log_in(identifier, data["password"], client_address=client_address(), user_agent=user_agent())


@blp.route("/token/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, TokenPairSchema)
@blp.doc(description="Send the refresh token as the bearer token. It is rotated: the old one stops working.")
def refresh_token():
    """Rotate the refresh token and get a new access token."""
    return sessions.refresh(get_jwt())


@blp.route("/logout", methods=["POST"])
@jwt_required()
@blp.arguments(LogoutSchema, required=False)
@blp.response(204)
def logout(data):
    """End the session of the presented token: its access and refresh tokens stop working.

    A `refresh_token` in the body is accepted for older clients and ignored: the session
    ends whatever it says.
    """
    sessions.logout(get_jwt())
