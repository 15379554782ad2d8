"""A browser's login that survives reloads and new tabs, its refresh token out of reach of scripts.

`POST /session/login` answers an access token only; the refresh token goes into an HttpOnly,
SameSite=Strict cookie scoped to `/session`, which page scripts can neither read nor send
anywhere else. Every tab of the site gets its own access token from `POST /session/refresh`
(the cookie rotates as `/token/refresh` rotates a bearer refresh token). CSRF: refresh and
logout need the `X-CSRF-Token` header to equal the `imperio_csrf` cookie, an HMAC of the
session id under SECRET_KEY that only a script of this origin can read.
"""

import hashlib
import hmac

import marshmallow as ma
from flask import current_app, make_response, request

from ..extensions import client_address, limiter, user_agent
from ..schemas import LoginSchema
from ..services.core.errors import Forbidden, Unauthorized
from ..services.identity import sessions, tokens
from ..services.identity.login import login as log_in
from .auth import PUBLIC, _login_limit
from .blueprint import Blueprint
from .errors import handle_domain_error

blp = Blueprint("browser_session", __name__, description="A browser's login, kept in an HttpOnly cookie")

REFRESH_COOKIE = "imperio_refresh"
CSRF_COOKIE = "imperio_csrf"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/session"
CSRF_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": CSRF_HEADER,
            "required": True,
            "schema": {"type": "string", "maxLength": 128},
            "description": "the value of the imperio_csrf cookie",
        }
    ]
}


class AccessTokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


def csrf_token(session_id):
    """The CSRF value of one session: an HMAC of its id, so it cannot be planted or guessed."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"lobby-csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def _with_cookies(pair, status=200):
    """The access token as the answer; the refresh token and the CSRF value as cookies."""
    claims = tokens.refresh_token_claims(pair["refresh_token"])
    body = {key: pair[key] for key in ("access_token", "token_type", "expires_in")}
    response = make_response(body, status)
    lifetime = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())
    secure = request.is_secure
    response.set_cookie(
        REFRESH_COOKIE,
        pair["refresh_token"],
        max_age=lifetime,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="Strict",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(claims["sid"]), max_age=lifetime, path="/", httponly=False, secure=secure, samesite="Strict"
    )
    return response


def _forget_cookies(response):
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, samesite="Strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="Strict")
    return response


def _cookie_claims():
    """The verified claims of this browser's refresh cookie, once its CSRF header matches."""
    claims = tokens.refresh_token_claims(request.cookies.get(REFRESH_COOKIE))
    presented = request.headers.get(CSRF_HEADER, "")
    if len(presented) > 128 or not hmac.compare_digest(presented.encode(), csrf_token(claims["sid"]).encode()):
        raise Forbidden(f"the {CSRF_HEADER} header must repeat the {CSRF_COOKIE} cookie", code="csrf_failed")
    return claims


@blp.route("/session/login", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(LoginSchema)
@blp.response(200, AccessTokenSchema)
@blp.doc(**PUBLIC)
def login(data):
    """Log a browser in: an access token in the answer, the refresh token in an HttpOnly cookie."""
    identifier = data.get("username") or data["email"]
    pair = log_in(identifier, data["password"], client_address=client_address(), user_agent=user_agent())
    return _with_cookies(pair)


@blp.route("/session/refresh", methods=["POST"])
@blp.response(200, AccessTokenSchema)
@blp.doc(security=[], **CSRF_DOC)
def refresh():
    """A fresh access token for this tab from the browser's refresh cookie (rotated).

    401 when the browser has no live session; an ended session says why in `details.reason`
    (`logout`, `logout_everywhere`, `timeout`, `self_exclusion`, ...). 403 `csrf_failed`
    when the header does not repeat the cookie.
    """
    try:
        pair = sessions.refresh_explained(_cookie_claims())
    except Unauthorized as exc:
        # The session is over: the browser may forget its cookies.
        return _forget_cookies(handle_domain_error(exc))
    return _with_cookies(pair)


@blp.route("/session/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=[], **CSRF_DOC)
def logout():
    """End this browser's session (its cookie, and every token of the session) and forget the cookies."""
    try:
        claims = _cookie_claims()
    except (Unauthorized, Forbidden):
        claims = None
    if claims is not None:
        sessions.end_session(claims["sid"], user_id=int(claims["sub"]), reason="logout")
    return _forget_cookies(make_response("", 204))
