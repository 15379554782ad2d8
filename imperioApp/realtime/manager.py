"""Acting on every socket in a room, in every process: disconnect them, or make them leave rooms.

python-socketio's Redis manager carries emits, single-socket disconnects and room closes
to every process, but a process only knows its own sockets, so "disconnect all of user
42's sockets" has no built-in form. This manager adds it as a variant of the `close_room`
message the protocol already carries: each process applies the action to its own members
of the room. (A process without this class would merely close the room: a safe degradation.)
"""

import socketio

from .. import metrics
from ..services.identity import tokens
from .protocol import SESSION_ROOM_PREFIX

ACTIONS = ("disconnect", "leave")


def count_emit(manager, event, namespace, room, skip_sid):
    """Count one emit by the number of this process's sockets it reaches."""
    skipped = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
    recipients = sum(1 for sid, _ in manager.get_participants(namespace or "/", room) if sid not in skipped)
    metrics.count_socket_messages(event, recipients)


class CountingManager(socketio.Manager):
    """The in-process client manager (no message queue), counting what it sends."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        count_emit(self, event, namespace, to or room, skip_sid)
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)


class RealtimeRedisManager(socketio.RedisManager):
    """The Redis client manager, counting what it sends, plus `act_on_room` across processes."""

    def _handle_emit(self, message):
        # Every emit, local or from the queue, is delivered to this process's sockets here.
        count_emit(self, message["event"], message.get("namespace"), message.get("room"), message.get("skip_sid"))
        return super()._handle_emit(message)

    def act_on_room(self, room, action, rooms=(), namespace="/"):
        """Apply `action` to the room's sockets here and in every other process."""
        message = {
            "method": "close_room",
            "room": room,
            "namespace": namespace,
            "host_id": self.host_id,
            "imperio_action": action,
            "rooms": list(rooms),
        }
        self._handle_close_room(message)
        self._publish(message)

    def _handle_close_room(self, message):
        action = message.get("imperio_action")
        if action is None:
            return super()._handle_close_room(message)
        apply_room_action(self.server, message.get("room"), action, message.get("rooms") or (), message.get("namespace") or "/")


def apply_room_action(server, room, action, rooms=(), namespace="/"):
    """Apply `action` to this process's sockets in `room`."""
    if action not in ACTIONS:
        return
    if action == "disconnect" and isinstance(room, str) and room.startswith(SESSION_ROOM_PREFIX):
        # The broadcast that a session ended: this process must stop trusting it too.
        tokens.forget_sessions([room[len(SESSION_ROOM_PREFIX) :]])
    sids = [sid for sid, _ in server.manager.get_participants(namespace, room)]
    for sid in sids:
        if action == "disconnect":
            server.disconnect(sid, namespace=namespace, ignore_queue=True)
        else:
            for other in rooms:
                server.leave_room(sid, other, namespace=namespace)


def act_on_room(server, room, action, rooms=()):
    """Apply `action` to the room's sockets in every process (just this one without a queue)."""
    manager = server.manager
    if isinstance(manager, RealtimeRedisManager):
        manager.act_on_room(room, action, rooms)
    else:
        apply_room_action(server, room, action, rooms)
