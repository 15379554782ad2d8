"""The event bus → Socket.IO bridge: domain events published after commit become emits.

Runs in whichever process settled the round (a REST worker, or a table timer); with the
message queue each emit reaches the sockets of every process. A failing emit is logged by
the bus and never touches the committed round.
"""

from ..extensions import socketio
from ..models import CHAT_ROOMS
from ..services.core import events
from . import leaderboards, tournaments
from .chat import chat_room
from .manager import act_on_room
from .protocol import session_room, user_room


def on_leaderboard_push_due(name, payload):
    """This process now pushes these boards (services.board_pushes decided): start their pushes."""
    leaderboards.pusher().schedule(payload["boards"])


def on_big_win(name, payload):
    """Announce a big win to everyone connected."""
    socketio.emit(
        "big_win_announcement",
        {
            "username": payload["username"],
            "amount": payload["amount"],
            "game_type": payload["game_type"],
        },
    )


def on_notification(name, payload):
    """Deliver a stored notification to its user's sockets."""
    socketio.emit("new_notification", {"notification": payload["notification"]}, to=user_room(payload["user_id"]))


def on_achievement_unlocked(name, payload):
    """Tell the player's sockets (the notification that also follows is the durable record)."""
    body = {key: value for key, value in payload.items() if key != "user_id"}
    socketio.emit("achievement_unlocked", body, to=user_room(payload["user_id"]))


def on_sessions_ended(name, payload):
    """Disconnect the sockets of ended sessions, on every process (which also forget the sessions)."""
    for session_id in payload["session_ids"]:
        act_on_room(socketio.server, session_room(session_id), "disconnect")


def on_chat_banned(name, payload):
    """Make every socket of a banned player, on every process, leave the chat rooms."""
    act_on_room(socketio.server, user_room(payload["user_id"]), "leave", [chat_room(room) for room in CHAT_ROOMS])


def on_reality_check(name, payload):
    """Show the player's sockets their session time and net position until they acknowledge it."""
    body = {key: value for key, value in payload.items() if key != "user_id"}
    socketio.emit("reality_check", body, to=user_room(payload["user_id"]))


def on_tournament_standings_changed(name, payload):
    """A tournament's standings changed: push them to its room (coalesced, at most once a second)."""
    tournaments.pusher().changed(payload["tournament_id"])


def on_tournament_closed(name, payload):
    """Tell a tournament's room that a period closed (results are at GET /tournaments/<id>/results)."""
    socketio.emit("tournament_closed", payload, to=tournaments.tournament_room(payload["tournament_id"]))


SUBSCRIPTIONS = {
    events.LEADERBOARD_PUSH_DUE: on_leaderboard_push_due,
    events.BIG_WIN: on_big_win,
    events.NOTIFICATION: on_notification,
    events.ACHIEVEMENT_UNLOCKED: on_achievement_unlocked,
    events.SESSIONS_ENDED: on_sessions_ended,
    events.CHAT_BANNED: on_chat_banned,
    events.REALITY_CHECK: on_reality_check,
    events.TOURNAMENT_STANDINGS_CHANGED: on_tournament_standings_changed,
    events.TOURNAMENT_CLOSED: on_tournament_closed,
}


def init_app(app):
    """Subscribe the bridge to the app's bus."""
    leaderboards.init_app(app)
    tournaments.init_app(app)
    with app.app_context():
        bus = events.bus()
    for name, handler in SUBSCRIPTIONS.items():
        bus.subscribe(name, handler)


def reset(app):
    """Close every in-process push window (tests)."""
    leaderboards.init_app(app)
    tournaments.init_app(app)
