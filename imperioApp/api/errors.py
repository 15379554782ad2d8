"""The one JSON error path: every failure becomes {"error": {"code", "message"}, "message"}."""

import re
import time

import structlog
from flask import current_app, jsonify
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from .. import error_reporting, metrics
from ..extensions import db, limiter
from ..games.errors import GameError, IllegalAction, RandomSourceFailed
from ..services.core.errors import AccountLocked, DomainError
from ..services.identity import tokens

log = structlog.get_logger(__name__)

# Werkzeug names that read badly as machine codes.
_CODE_OVERRIDES = {413: "payload_too_large", 422: "validation_error", 429: "rate_limited"}


def error_response(status, code, message, details=None, headers=None):
    """Build the JSON error response."""
    # The old frontends read a top-level "message"; error.code stays the machine-readable part.
    body = {"error": {"code": code, "message": message}, "message": message}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error):
    """Render any HTTPException (404, 405, 413, 415, webargs' 400/422, ...) as JSON."""
    if isinstance(error, RateLimitExceeded):
        metrics.count_rate_limited()
        return error_response(
            429,
            "rate_limited",
            f"too many requests: limit is {error.description}",
            headers={"Retry-After": str(_rate_limit_retry_after())},
        )
    data = getattr(error, "data", None) or {}
    details = data.get("errors") or data.get("messages")
    if isinstance(details, dict) and set(details) <= {"json", "query", "headers", "view_args", "files", "form"}:
        # webargs nests field errors under the location; one location is the common case.
        details = details.get("json") or details.get("query") or details
    message = data.get("message") or error.description
    if error.code == 422 and details:
        message = "the request failed validation"
    code = _CODE_OVERRIDES.get(error.code) or re.sub(r"\W+", "_", error.name.lower()).strip("_")
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(error.code, code, message, details, headers=headers)


def _rate_limit_retry_after():
    """Seconds until the breached limit's window lets a request through again."""
    try:
        limit = limiter.current_limit
        return max(1, int(limit.reset_at - time.time())) if limit is not None else 60
    except Exception:  # the limit's storage failed while answering: any honest guess beats a 500
        return 60


def handle_domain_error(error):
    """Render a service's DomainError with its status and code."""
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, AccountLocked) else None
    return error_response(error.status, error.code, error.message, error.details, headers)


def handle_game_error(error):
    """Render an engine's refusal: a move the game's state forbids is 409, a malformed bet 400."""
    status = 409 if isinstance(error, IllegalAction) and error.code != "unknown_action" else 400
    return error_response(status, error.code, error.message)


# What a database that is down, restarting or unreachable raises (psycopg2's OperationalError
# and InterfaceError arrive wrapped in these), and the pool's wait for a connection.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
try:
    import psycopg2

    # Statements run on the raw driver connection (the settlement path) raise the driver's own.
    DATABASE_UNAVAILABLE += (psycopg2.OperationalError, psycopg2.InterfaceError)
except ImportError:  # pragma: no cover - psycopg2 is a runtime dependency
    pass


def handle_unexpected_error(error):
    """Log, roll back the session so nothing half-written survives, and answer 500 (503 if the database is down)."""
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        return handle_http_exception(error)
    cause = getattr(error, "original_exception", None) or error
    try:
        db.session.rollback()
    except DATABASE_UNAVAILABLE:
        pass  # the connection is gone: nothing of this request can have committed
    if isinstance(cause, DATABASE_UNAVAILABLE):
        metrics.count_database_unavailable("unreachable")
        log.error("database_unavailable", error=str(cause).splitlines()[0] if str(cause) else type(cause).__name__)
        retry_after = current_app.config.get("DATABASE_RETRY_AFTER_SECONDS", 2)
        return error_response(
            503,
            "service_unavailable",
            "the database is unavailable; try again shortly",
            headers={"Retry-After": str(retry_after)},
        )
    log.exception("unhandled_error", exc_info=cause)
    error_reporting.capture(cause)
    return error_response(500, "internal_error", "an unexpected error occurred")


def register_token_errors(jwt):
    """Render Flask-JWT-Extended's refusals in the error shape, with WWW-Authenticate."""
    from .security import GAME_TOKEN_REFUSED, game_token_allowed_here

    def unauthorized(code, message):
        return error_response(401, code, message, headers={"WWW-Authenticate": "Bearer"})

    jwt.expired_token_loader(lambda header, payload: unauthorized("token_expired", "the token has expired"))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("token_revoked", "the token has been revoked"))
    jwt.invalid_token_loader(lambda reason: unauthorized("invalid_token", f"invalid token: {reason}"))
    jwt.unauthorized_loader(lambda reason: unauthorized("authorization_required", reason))
    jwt.needs_fresh_token_loader(lambda header, payload: unauthorized("fresh_token_required", "a fresh token is required"))
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized("invalid_token", "the account no longer exists"))
    # The one claims check: a game token outside the old frontends' endpoints fails it (403).
    jwt.token_verification_loader(lambda header, payload: game_token_allowed_here(payload))
    jwt.token_verification_failed_loader(lambda header, payload: error_response(403, "token_scope", GAME_TOKEN_REFUSED))


def handle_random_source_failure(error):
    """The OS random source failed: no new seed pair can be made, so 503 and nothing written."""
    db.session.rollback()
    log.error("random_source_failed", error=str(error))
    return error_response(
        503,
        error.code,
        "the random number source is unavailable; games are paused, try again shortly",
        headers={"Retry-After": "5"},
    )


def handle_pool_timeout(error):
    """No database connection freed up within DB_POOL_TIMEOUT: overloaded, so 503, try again shortly."""
    db.session.rollback()
    metrics.count_database_unavailable("pool_exhausted")
    log.warning("database_pool_exhausted", error=str(error))
    return error_response(503, "service_unavailable", "the server is busy; try again shortly", headers={"Retry-After": "1"})


def register_error_handlers(app):
    """Install the handlers on the app."""
    register_token_errors(tokens.jwt)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(GameError, handle_game_error)
    app.register_error_handler(RandomSourceFailed, handle_random_source_failure)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    app.register_error_handler(Exception, handle_unexpected_error)
