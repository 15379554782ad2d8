"""How every event handler is wrapped: authentication, payload checks, and one error shape.

A handler declared with `@event(name, Schema)` receives (identity, payload) where the
payload passed the schema. Anything refused — no authentication, a payload that is not an
object or too large, a field missing or of the wrong type, a service's DomainError, an
engine's GameError — is answered to that socket alone as `error {code, message, event}`
(plus `details` for field errors); the connection stays open. An unexpected exception
rolls the database session back and answers `internal_error`.
"""

import functools
import json
import re

import marshmallow as ma
import structlog
from flask import current_app, request
from flask_socketio import emit

from ..extensions import db, socketio
from ..games.errors import GameError
from ..services.core.errors import DomainError

log = structlog.get_logger(__name__)
_IDENTITY = "imperio.identity"
SCHEDULER = "imperio.scheduler"


def scheduler(app=None):
    """What runs the app's timed background work: Socket.IO's own (gevent or threads), or a
    stand-in set at app.extensions[SCHEDULER] (tests step its clock by hand)."""
    return (app or current_app).extensions.get(SCHEDULER, socketio)


def user_room(user_id):
    """The private room of one user's sockets."""
    return f"user:{user_id}"


SESSION_ROOM_PREFIX = "session:"


def session_room(session_id):
    """The room of the sockets authenticated by one login session's tokens."""
    return SESSION_ROOM_PREFIX + session_id


def identity():
    """The socket's authenticated Identity, or None."""
    return request.environ.get(_IDENTITY)


def set_identity(value):
    """Remember who this socket is (kept in its WSGI environ for its whole life)."""
    request.environ[_IDENTITY] = value


def send_error(code, message, event_name=None, details=None):
    """Answer the current socket with `error {code, message, event}`."""
    body = {"code": code, "message": message}
    if event_name:
        body["event"] = event_name
    if details:
        body["details"] = details
    emit("error", body)
    return {"error": body}


# How json.dumps writes a NUL character (an escape not itself escaped); PostgreSQL refuses NUL in text.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _refusal(data):
    """Why a payload is refused before its schema sees it: (code, message), or None."""
    try:
        text = json.dumps(data, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return "payload_too_large", "the payload is too large"
    if len(text) > current_app.config["SOCKETIO_MAX_EVENT_BYTES"]:
        return "payload_too_large", "the payload is too large"
    if _ESCAPED_NUL.search(text):
        return "validation_error", "text may not contain NUL characters"
    return None


def event(name, schema=None, *, authenticated=True):
    """Declare the handler of a client event; see the module docstring."""
    loader = schema() if schema else None

    def decorator(fn):
        @functools.wraps(fn)
        def handler(data=None, *extra):
            who = identity()
            if authenticated and who is None:
                return send_error("unauthenticated", "authenticate first: send `authenticate {token}`", name)
            if loader is not None:
                if not isinstance(data, dict):
                    return send_error("validation_error", "the payload must be an object", name)
                refused = _refusal(data)
                if refused:
                    return send_error(*refused, name)
                try:
                    data = loader.load(data)
                except ma.ValidationError as exc:
                    return send_error("validation_error", "the payload failed validation", name, exc.messages)
            try:
                return fn(who, data)
            except DomainError as exc:
                db.session.rollback()
                return send_error(exc.code, exc.message, name, exc.details)
            except GameError as exc:
                db.session.rollback()
                return send_error(exc.code, exc.message, name)
            except Exception:
                db.session.rollback()
                log.exception("socket_handler_failed", event_name=name)
                return send_error("internal_error", "an unexpected error occurred", name)

        socketio.on(name)(handler)
        return handler

    return decorator


@socketio.on("*")
def _unknown_event(event_name, *args):
    """Events nobody handles are refused, not silently dropped."""
    send_error("unknown_event", f"unknown event {str(event_name)[:64]!r}", str(event_name)[:64])
