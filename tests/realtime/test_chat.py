"""Chat: history on join, plain-text messages, validation, flood control, mutes and bans."""

import threading

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import ChatMessage, ChatSanction
from imperioApp.services.identity import throttle, throttle_store
from imperioApp.services.social import chat

from .helpers import assert_error


def stored(app, room=None):
    with app.app_context():
        query = select(ChatMessage.message).order_by(ChatMessage.id)
        if room:
            query = query.where(ChatMessage.room == room)
        rows = list(db.session.execute(query).scalars())
        db.session.remove()
    return rows


def sanctions(app):
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(ChatSanction)).scalar_one()
        db.session.remove()
    return count


def joined(connect, player, room="lobby"):
    sock = connect(player)
    sock.emit("join_chat", {"room": room})
    sock.take("chat_history")
    return sock


def test_joining_sends_the_last_50_messages_oldest_first(app, connect, player, monkeypatch):
    monkeypatch.setitem(app.config, "CHAT_RATE_LIMIT", 1000)
    with app.app_context():
        for n in range(55):
            chat.post(player.id, player.username, "lobby", f"message {n}")
        chat.post(player.id, player.username, "slots", "elsewhere")
    sock = connect(player)
    reply = sock.emit("join_chat", {"room": "lobby"})
    history = sock.events("chat_history")
    assert history == [reply]
    messages = reply["messages"]
    assert reply["room"] == "lobby" and len(messages) == 50
    assert [m["message"] for m in messages] == [f"message {n}" for n in range(5, 55)]
    assert set(messages[0]) == {"id", "room", "username", "message", "timestamp"}
    assert messages[0]["username"] == player.username


def test_a_message_reaches_everyone_in_the_room_and_no_one_else(app, connect, player, make_player):
    other = make_player()
    sender, listener = joined(connect, player), joined(connect, other)
    elsewhere = joined(connect, make_player(), room="roulette")
    reply = sender.emit("send_chat_message", {"room": "lobby", "message": "  good luck all  "})
    expected = sender.events("chat_message")
    assert len(expected) == 1 and reply == {"id": expected[0]["id"]}
    message = expected[0]
    assert {k: message[k] for k in ("username", "message", "room")} == {
        "username": player.username,
        "message": "good luck all",
        "room": "lobby",
    }
    assert message["timestamp"].endswith("+00:00")
    assert listener.events("chat_message") == [message]
    assert elsewhere.events("chat_message") == []
    assert stored(app) == ["good luck all"]


def test_markup_is_plain_text_stored_and_sent_exactly_as_typed(app, connect, player, make_player):
    text = "<script>alert('x')</script> &amp; <b>bold</b> \"quoted\""
    sender, listener = joined(connect, player), joined(connect, make_player())
    sender.emit("send_chat_message", {"room": "lobby", "message": text})
    assert listener.events("chat_message")[0]["message"] == text
    assert stored(app) == [text]
    late = connect(make_player())
    assert late.emit("join_chat", {"room": "lobby"})["messages"][0]["message"] == text


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"room": "lobby", "message": "   "}, "empty_message"),
        ({"room": "lobby", "message": ""}, "empty_message"),
        ({"room": "lobby", "message": "x" * 501}, "message_too_long"),
        ({"room": "lobby", "message": 42}, "validation_error"),
        ({"room": "lobby"}, "validation_error"),
        ({"room": "casino", "message": "hi"}, "unknown_room"),
        ({"room": ["lobby"], "message": "hi"}, "validation_error"),
        ({"room": "lobby", "message": "x" * 20_000}, "payload_too_large"),
        ("hello", "validation_error"),
        (None, "validation_error"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_written(app, connect, player, payload, code):
    sock = joined(connect, player)
    sock.emit("send_chat_message", payload)
    assert_error(sock, code, "send_chat_message")
    assert stored(app) == []


def test_exactly_500_characters_after_trimming_are_accepted(app, connect, player):
    sock = joined(connect, player)
    sock.emit("send_chat_message", {"room": "lobby", "message": "  " + "y" * 500 + "\n"})
    assert sock.events("error") == []
    assert stored(app) == ["y" * 500]


def test_join_chat_refuses_unknown_rooms_and_bad_payloads(connect, player):
    sock = connect(player)
    for payload, code in [({"room": "vip"}, "unknown_room"), ({"room": 1}, "validation_error"), ({}, "validation_error")]:
        sock.emit("join_chat", payload)
        assert_error(sock, code, "join_chat")


def test_sending_to_a_room_not_joined_is_refused(app, connect, player):
    sock = joined(connect, player, room="slots")
    sock.emit("send_chat_message", {"room": "lobby", "message": "hi"})
    assert_error(sock, "not_in_room")
    sock.emit("leave_chat", {"room": "slots"})
    sock.emit("send_chat_message", {"room": "slots", "message": "hi"})
    assert_error(sock, "not_in_room")
    assert stored(app) == []


def test_a_flood_is_cut_at_five_messages_per_five_seconds(app, connect, player):
    sock = joined(connect, player)
    for n in range(8):
        sock.emit("send_chat_message", {"room": "lobby", "message": f"spam {n}"})
    errors = sock.take("error")
    assert [e["code"] for e in errors] == ["rate_limited"] * 3
    assert 0 < errors[0]["details"]["retry_after"] <= 5
    assert sock.connected
    assert stored(app) == [f"spam {n}" for n in range(5)]
    assert len(sock.events("chat_message")) == 5


def test_the_window_is_per_user(app, connect, player, make_player):
    one, two = joined(connect, player), joined(connect, make_player())
    for n in range(5):
        one.emit("send_chat_message", {"room": "lobby", "message": f"a{n}"})
    two.emit("send_chat_message", {"room": "lobby", "message": "b"})
    assert one.events("error") == [] and two.events("error") == []
    assert len(stored(app)) == 6


def test_the_memory_window_is_atomic_under_racing_threads():
    window = throttle_store.MemoryWindow()
    results = []
    barrier = threading.Barrier(20)

    def worker():
        barrier.wait()
        results.append(window.hit("chat:1", 5, 5)[0])

    threads = [threading.Thread(target=worker) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(True) == 5


def test_the_memory_window_slides():
    now = [100.0]
    window = throttle_store.MemoryWindow(clock=lambda: now[0])
    assert all(window.hit("k", 2, 5)[0] for _ in range(2))
    allowed, retry = window.hit("k", 2, 5)
    assert not allowed and retry == pytest.approx(5)
    now[0] += 5.01
    assert window.hit("k", 2, 5)[0]


@pytest.mark.redis
def test_the_redis_window_is_atomic_under_racing_threads(app):
    results = []
    barrier = threading.Barrier(20)

    def worker():
        barrier.wait()
        with app.app_context():
            results.append(throttle.hit("chat:race", 5, 5)[0])

    threads = [threading.Thread(target=worker) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(True) == 5


def test_admins_mute_and_unmute(app, connect, player, make_admin):
    admin = make_admin()
    target, moderator = joined(connect, player), connect(admin)
    reply = moderator.emit("mute_user", {"username": player.username, "minutes": 10})
    assert reply["kind"] == "mute" and reply["username"] == player.username and reply["expires_at"]
    target.emit("send_chat_message", {"room": "lobby", "message": "hello?"})
    assert_error(target, "muted")
    moderator.emit("unmute_user", {"username": player.username})
    target.emit("send_chat_message", {"room": "lobby", "message": "back"})
    assert target.events("error") == []
    assert stored(app) == ["back"]


def test_a_ban_shuts_the_player_out_of_chat_at_once(app, connect, player, make_admin, make_player):
    admin = make_admin()
    target, moderator = joined(connect, player), joined(connect, admin)
    moderator.emit("ban_user", {"username": player.username})
    moderator.emit("send_chat_message", {"room": "lobby", "message": "rules apply"})
    assert target.events("chat_message") == []  # removed from the room it had joined
    target.emit("send_chat_message", {"room": "lobby", "message": "let me in"})
    assert_error(target, "not_in_room")
    target.emit("join_chat", {"room": "lobby"})
    assert_error(target, "banned")
    moderator.emit("unban_user", {"username": player.username})
    target.emit("join_chat", {"room": "lobby"})
    assert target.events("error") == []


@pytest.mark.parametrize(
    "event, payload, code",
    [
        ("mute_user", {"username": "nobody", "minutes": 5}, "user_not_found"),
        ("mute_user", {"username": "{target}", "minutes": 0}, "invalid_minutes"),
        ("mute_user", {"username": "{target}", "minutes": 10**9}, "invalid_minutes"),
        ("mute_user", {"username": "{target}", "minutes": "5"}, "validation_error"),
        ("mute_user", {"username": "{target}", "minutes": True}, "validation_error"),
        ("mute_user", {"username": "{target}"}, "validation_error"),
        ("mute_user", {"username": "{admin}", "minutes": 5}, "invalid_target"),
        ("ban_user", {"username": 7}, "validation_error"),
    ],
)
def test_bad_moderation_requests_are_refused(app, connect, player, make_admin, event, payload, code):
    admin = make_admin()
    payload = {k: v.format(target=player.username, admin=admin.username) if isinstance(v, str) else v for k, v in payload.items()}
    moderator = connect(admin)
    moderator.emit(event, payload)
    assert_error(moderator, code, event)
    assert sanctions(app) == 0


def test_only_admins_moderate_even_with_an_admin_claim_in_the_token(app, connect, player, make_player):
    # The token says admin, the database says player: the database wins.
    pretender = make_player(role="admin")
    sock = connect(pretender)
    sock.emit("mute_user", {"username": player.username, "minutes": 5})
    assert_error(sock, "admin_required")
    sock.emit("ban_user", {"username": player.username})
    assert_error(sock, "admin_required")
    assert sanctions(app) == 0


def test_the_service_refuses_posts_from_muted_and_banned_players(app, player, make_player, make_admin):
    from imperioApp.services.core.errors import Forbidden

    admin, other = make_admin(), make_player()
    with app.app_context():
        chat.sanction(admin.id, player.username, "mute", 5)
        chat.sanction(admin.id, other.username, "ban")
        with pytest.raises(Forbidden) as muted:
            chat.post(player.id, player.username, "lobby", "hello")
        with pytest.raises(Forbidden) as banned:
            chat.post(other.id, other.username, "lobby", "hello")
        db.session.remove()
    assert muted.value.code == "muted" and "until" in muted.value.message
    assert banned.value.code == "banned"
    assert stored(app) == []


@pytest.mark.parametrize("message", ["hi\x00there", "\x00"])
def test_a_nul_in_a_message_is_refused_and_nothing_stored(app, connect, player, message):
    sock = joined(connect, player)
    sock.emit("send_chat_message", {"room": "lobby", "message": message})
    assert_error(sock, "validation_error", "send_chat_message")
    assert stored(app) == []


def test_a_message_quoting_an_escape_is_plain_text(app, connect, player):
    sock = joined(connect, player)
    sock.emit("send_chat_message", {"room": "lobby", "message": r"type \u0000 to see"})
    assert stored(app) == [r"type \u0000 to see"]
