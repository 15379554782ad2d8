"""Socket.IO metrics of this process: sockets connected, and messages sent per recipient."""

from imperioApp import metrics
from imperioApp.extensions import socketio


def sample(name, **labels):
    return metrics.REGISTRY.get_sample_value(name, labels) or 0


def test_sockets_connected_follow_connects_and_disconnects(connect, player):
    before = sample("imperio_socketio_sockets_connected")
    first, second = connect(player), connect()
    assert sample("imperio_socketio_sockets_connected") == before + 2
    first.disconnect()
    second.disconnect()
    assert sample("imperio_socketio_sockets_connected") == before


def test_messages_are_counted_once_per_recipient(connect, player, make_player):
    sockets = [connect(player), connect(make_player()), connect()]
    before = sample("imperio_socketio_messages_emitted_total", event="big_win_announcement")
    socketio.emit("big_win_announcement", {"username": "x", "amount": 5, "game_type": "slots"})
    assert all(sock.wait("big_win_announcement") for sock in sockets)
    assert sample("imperio_socketio_messages_emitted_total", event="big_win_announcement") == before + 3
    # A skipped socket is not a recipient.
    before = sample("imperio_socketio_messages_emitted_total", event="probe")
    skipped = socketio.server.manager.sid_from_eio_sid(sockets[0].client.eio_sid, "/")
    socketio.emit("probe", {}, skip_sid=skipped)
    assert sample("imperio_socketio_messages_emitted_total", event="probe") == before + 2
