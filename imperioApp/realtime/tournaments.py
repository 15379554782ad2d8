"""Live tournaments: join a tournament's room for `tournament_standings` and `tournament_closed`.

A scored round or a join publishes `tournament_standings_changed`; this process then pushes
the tournament's standings (the first page) to its room at most once per
TOURNAMENT_PUSH_INTERVAL: the first change opens a window, changes inside it wait for the one
push at its end. A closed (or cancelled) period is announced with `tournament_closed`.
"""

import threading
import time

import marshmallow as ma
import structlog
from flask import current_app
from flask_socketio import emit, join_room, leave_room
from marshmallow import validate

from ..extensions import socketio
from ..schemas import MAX_ID
from ..services.competitions import standings, tournaments
from .protocol import event, scheduler

log = structlog.get_logger(__name__)

_PUSHER = "imperio.tournament_pusher"
PUSH_SIZE = 20


def tournament_room(tournament_id):
    return f"tournament:{tournament_id}"


class StandingsPusher:
    """Coalesces standings pushes: at most one per tournament per interval, from this process."""

    def __init__(self, app):
        self.app = app
        self.interval = app.config["TOURNAMENT_PUSH_INTERVAL"]
        self._lock = threading.Lock()
        self._pending = set()
        self._last = {}

    def changed(self, tournament_id):
        with self._lock:
            if tournament_id in self._pending:
                return
            self._pending.add(tournament_id)
            wait = max(0.0, self._last.get(tournament_id, 0.0) + self.interval - time.monotonic())
        scheduler(self.app).start_background_task(self._push_after, tournament_id, wait)

    def _push_after(self, tournament_id, wait):
        if wait:
            scheduler(self.app).sleep(wait)
        with self._lock:
            self._pending.discard(tournament_id)
            self._last[tournament_id] = time.monotonic()
        with self.app.app_context():
            try:
                socketio.emit("tournament_standings", standings_body(tournament_id), to=tournament_room(tournament_id))
            except Exception:
                log.exception("tournament_push_failed", tournament_id=tournament_id)


def standings_body(tournament_id):
    page = standings.page(tournament_id, limit=PUSH_SIZE)
    return {"tournament_id": tournament_id, "period": page["period"], "phase": page["phase"], "standings": page["items"]}


def pusher():
    return current_app.extensions[_PUSHER]


def init_app(app):
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
