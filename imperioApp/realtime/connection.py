"""Connecting, authenticating and disconnecting sockets.

A token may come in the connect `auth` payload ({"token": ...}; a bad one refuses the
connection) or later in `authenticate {token}` (a bad one is answered with `error`, and
the socket stays connected but unauthenticated). Either way the socket joins its private
room `user:<id>` and gets `authenticated {status, username, user_id}`.
"""

import marshmallow as ma
import structlog
from flask_socketio import ConnectionRefusedError, emit, join_room

from .. import metrics
from ..extensions import db, socketio
from ..services.core.errors import DomainError
from ..services.identity import tokens
from . import multiplayer
from .protocol import event, identity, session_room, set_identity, user_room

log = structlog.get_logger(__name__)


class AuthenticateSchema(ma.Schema):
    token = ma.fields.String(required=True)


@socketio.on("connect")
def on_connect(auth=None):
    """Accept the connection; authenticate it at once if the connect payload has a token."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token is None:
        metrics.SOCKETS_CONNECTED.inc()
        return True
    try:
        _authenticate(token)
    except DomainError as exc:
        raise ConnectionRefusedError({"code": exc.code, "message": exc.message}) from None
    except Exception:
        # Anything else would leave the client waiting for an answer that never comes.
        db.session.rollback()
        log.exception("socket_connect_failed")
        raise ConnectionRefusedError({"code": "internal_error", "message": "an unexpected error occurred"}) from None
    metrics.SOCKETS_CONNECTED.inc()
    return True


@event("authenticate", AuthenticateSchema, authenticated=False)
def on_authenticate(current, data):
    """Authenticate a connected socket with an access token."""
    return _authenticate(data["token"], current)


def _authenticate(token, current=None):
    who = tokens.identify(token)
    if current is not None and current.user_id != who.user_id:
        raise DomainError("this socket is already authenticated as another user", code="already_authenticated")
    set_identity(who)
    join_room(user_room(who.user_id))
    # Ending the session disconnects the sockets it authenticated (see bridge).
    join_room(session_room(who.session_id))
    reply = {"status": "ok", "username": who.username, "user_id": who.user_id}
    emit("authenticated", reply)
    return reply


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Give up the seats this socket held in multiplayer rooms."""
    metrics.SOCKETS_CONNECTED.dec()
    metrics.SOCKET_DISCONNECTS.inc()
    who = identity()
    if who is not None:
        multiplayer.release_all(who)
