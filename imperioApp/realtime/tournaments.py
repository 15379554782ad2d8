"""Live tournaments: join a tournament's room for `tournament_standings` and `tournament_closed`.

A scored round or a join publishes `tournament_standings_changed`; this process then pushes
the tournament's standings (the first page) to its room at most once per
TOURNAMENT_PUSH_INTERVAL, through the same coalescer as the leaderboards
(`realtime.coalescing`): the first change opens a window, the changes inside it are pushed
once, at its end, and a change during the push keeps it open for one more. A closed (or
cancelled) period is announced with `tournament_closed`. Each process coalesces its own
rounds' changes.
"""

import marshmallow as ma
import structlog
from flask import current_app
from flask_socketio import emit, join_room, leave_room
from marshmallow import validate

from ..extensions import socketio
from ..schemas import MAX_ID
from ..services.competitions import standings, tournaments
from ..services.core.errors import NotFound
from .coalescing import PushCoalescer
from .protocol import event

log = structlog.get_logger(__name__)

_PUSHER = "imperio.tournament_pusher"
PUSH_SIZE = 20


def tournament_room(tournament_id):
    return f"tournament:{tournament_id}"


class StandingsPusher:
    """Coalesces standings pushes: at most one per tournament per interval, from this process."""

    def __init__(self, app):
        self._windows = PushCoalescer(app, app.config["TOURNAMENT_PUSH_INTERVAL"], self._push)

    def stop(self):
        """Push no more: windows still open end without a push."""
        self._windows.stop()

    def changed(self, tournament_id):
        """Open the tournament's window, or mark the open one changed: one push at its end."""
        self._windows.open(tournament_id)

    @staticmethod
    def _push(tournament_id):
        try:
            socketio.emit("tournament_standings", standings_body(tournament_id), to=tournament_room(tournament_id))
        except NotFound:
            pass  # the tournament is gone (a test's tables were emptied)
        except Exception:
            log.exception("tournament_push_failed", tournament_id=tournament_id)
        return False


def standings_body(tournament_id):
    page = standings.page(tournament_id, limit=PUSH_SIZE)
    return {"tournament_id": tournament_id, "period": page["period"], "phase": page["phase"], "standings": page["items"]}


def pusher():
    return current_app.extensions[_PUSHER]


def stop(app):
    current = app.extensions.get(_PUSHER)
    if current is not None:
        current.stop()


def init_app(app):
    """A fresh pusher for the app (stopping any previous one)."""
    stop(app)
    app.extensions[_PUSHER] = StandingsPusher(app)


class TournamentSchema(ma.Schema):
    tournament_id = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))


@event("join_tournament", TournamentSchema)
def on_join_tournament(who, data):
    """Receive `tournament_standings` and `tournament_closed` for one tournament; its standings arrive at once."""
    tournament_id = data["tournament_id"]
    tournaments.detail(tournament_id)  # NotFound for an unknown tournament
    join_room(tournament_room(tournament_id))
    body = standings_body(tournament_id)
    emit("tournament_standings", body)
    return body


@event("leave_tournament", TournamentSchema)
def on_leave_tournament(who, data):
    """Stop receiving one tournament's updates."""
    leave_room(tournament_room(data["tournament_id"]))
    return {"tournament_id": data["tournament_id"]}
