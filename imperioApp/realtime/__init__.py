"""The real-time layer: Socket.IO handlers and the event bus → emit bridge.

Handlers live in `connection`, `chat` and `multiplayer` and call services only; `bridge`
turns domain events into emits. With REDIS_URL set (and SOCKETIO_USE_MESSAGE_QUEUE on),
every emit goes through the Redis message queue to every process.
"""

from ..extensions import sentinel_settings, socketio
from .manager import CountingManager, RealtimeRedisManager


def allowed_socket_origins(origins):
    """Engine.IO's form of CORS_ORIGINS: "*" for any, None for same-origin only, else the list.

    An empty list would tell Engine.IO to skip the origin check altogether.
    """
    if "*" in origins:
        return "*"
    return list(origins) or None


def queue_redis_options(app, url):
    """The queue's Redis options: with sentinels, asking them fails fast; no read timeout anywhere.

    The subscriber blocks reading its channel for as long as nothing is emitted: a read
    timeout would tear it down and resubscribe (losing what is published meanwhile)
    every time the site is quiet.
    """
    if sentinel_settings(url) is None:
        return {}
    timeout = app.config.get("REDIS_SOCKET_TIMEOUT", 1.0)
    return {"socket_connect_timeout": timeout, "sentinel_kwargs": {"socket_timeout": timeout, "socket_connect_timeout": timeout}}


def init_socketio(app):
    """Bind the global SocketIO to `app`, with the Redis message queue when configured."""
    # The client manager is always passed explicitly: Flask-SocketIO keeps options across
    # init_app calls, so an app without Redis must not inherit a previous app's queue.
    # Handlers must be declared before the first init_app: Flask-SocketIO only remembers
    # (and so re-registers on later servers) handlers declared while it has no server.
    from . import chat, connection, leaderboards, multiplayer, tournaments  # noqa: F401

    url = app.config.get("REDIS_URL") if app.config["SOCKETIO_USE_MESSAGE_QUEUE"] else None
    if url:
        manager = RealtimeRedisManager(
            url,
            channel=app.config["SOCKETIO_CHANNEL"],
            write_only=app.config["SOCKETIO_WRITE_ONLY"],
            redis_options=queue_redis_options(app, url),
        )
    else:
        manager = CountingManager()
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        client_manager=manager,
        cors_allowed_origins=allowed_socket_origins(app.config["CORS_ORIGINS"]),
        max_http_buffer_size=app.config["SOCKETIO_MAX_HTTP_BUFFER"],
    )


def register_realtime(app):
    """Subscribe the bus → emit bridge to the app's event bus (handlers came with init_socketio)."""
    from . import bridge

    bridge.init_app(app)


def stop_background_tasks(app):
    """Finish the app's queued leaderboard writes and stop its pusher: nothing emits once this returns."""
    from ..services.engagement import board_pushes
    from . import leaderboards, tournaments

    board_pushes.flush(app)
    leaderboards.stop(app)
    tournaments.stop(app)


def reset_state(app):
    """Forget in-process realtime state between tests (Redis state goes with FLUSHDB)."""
    from ..services.identity import throttle
    from ..services.social import rooms, tables
    from . import bridge

    with app.app_context():
        rooms.reset()
        tables.reset()
        throttle.reset()
        bridge.reset(app)
