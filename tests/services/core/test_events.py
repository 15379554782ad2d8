"""The events the bus carries: each named once in `services.core.events`, its subscribers as documented."""

import ast
import re
from pathlib import Path

from imperioApp.services.core import events

ROOT = Path(events.__file__).resolve().parents[3]


def calls_naming_an_event(tree):
    """(line, first argument) of every publish/subscribe/publish_after_commit call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("publish", "subscribe", "publish_after_commit"):
                yield node.lineno, node.args[0]


def test_every_event_is_named_by_a_constant_of_the_events_module():
    literal = []
    for path in sorted((ROOT / "imperioApp").rglob("*.py")):
        for line, argument in calls_naming_an_event(ast.parse(path.read_text())):
            if isinstance(argument, ast.Constant):
                literal.append(f"{path.relative_to(ROOT)}:{line}: {argument.value!r}")
    assert literal == [], "events named by a bare string instead of a constant of services.core.events"


def test_the_constants_are_the_wire_names_and_each_is_documented():
    assert len(set(events.ALL)) == len(events.ALL)
    documented = re.findall(r"^- `([A-Z_]+)`:", events.__doc__, flags=re.MULTILINE)
    assert [getattr(events, name) for name in documented] == list(events.ALL)
    assert events.ALL == (
        "round_settled",
        "big_win",
        "notification",
        "achievement_unlocked",
        "reality_check",
        "chat_banned",
        "sessions_ended",
        "leaderboard_push_due",
        "tournament_standings_changed",
        "tournament_closed",
    )


def documented_subscribers():
    """{event name: [subscriber's dotted name]} as the module docstring lists them."""
    listed, current = {}, None
    for line in events.__doc__.splitlines():
        event = re.match(r"^- `([A-Z_]+)`:", line)
        if event:
            current = listed.setdefault(getattr(events, event.group(1)), [])
        subscriber = re.match(r"^\s+\d+\. `([a-z_.]+)`:", line)
        if subscriber and current is not None:
            current.append(subscriber.group(1))
    return listed


def test_the_apps_subscribers_are_the_documented_ones_in_their_order(app):
    with app.app_context():
        subscribed = {
            name: [
                f"{handler.__module__}.{handler.__qualname__}".removeprefix("imperioApp.").removeprefix("services.")
                for handler in handlers
            ]
            for name, handlers in events.bus()._subscribers.items()
            if handlers
        }
    assert subscribed == documented_subscribers()
