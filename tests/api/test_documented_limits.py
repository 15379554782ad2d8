"""Every limit /openapi.json states for a request is the one the server enforces.

The test walks the document rather than a list: for each request field (query parameter or
JSON body, nested ones and each `oneOf` branch included) that states `maxItems`, `maximum`
or `maxLength`, it sends an otherwise valid request with the field exactly at the limit and
one past it. At the limit the server must not refuse the request as malformed (400 or 422);
one past, it must answer a JSON 4xx error and write nothing. An operation whose document
states a limit but has no valid request below fails the test, so a new endpoint cannot slip
past it, and neither can a limit that moves in one place and not the other.
"""

import copy
import itertools
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db

from .helpers import assert_ledger_holds

LIMITS = ("maxItems", "maximum", "maxLength")
MALFORMED = (400, 422)
_unique = itertools.count(1)


@dataclass(frozen=True)
class Limit:
    method: str
    path: str
    location: str  # "query" or "body"
    pointer: tuple  # steps from the parameter or body: ("prop", name), ("item",), ("branch", i)
    keyword: str
    value: int
    schema: dict

    @property
    def field(self):
        names = [step[1] for step in self.pointer if step[0] == "prop"]
        return names[-1] if names else None

    def __str__(self):
        steps = "".join(f".{s[1]}" if s[0] == "prop" else "[]" if s[0] == "item" else f"|{s[1]}" for s in self.pointer)
        return f"{self.method} {self.path} {self.location}{steps} {self.keyword}={self.value}"


def resolve(schema, components):
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _limits_in(schema, components, pointer, found):
    schema = resolve(schema, components)
    found.extend((pointer, keyword, schema[keyword], schema) for keyword in LIMITS if keyword in schema)
    for name, child in schema.get("properties", {}).items():
        _limits_in(child, components, (*pointer, ("prop", name)), found)
    for index, branch in enumerate(schema.get("oneOf", ())):
        _limits_in(branch, components, (*pointer, ("branch", index)), found)
    if isinstance(schema.get("items"), dict):
        _limits_in(schema["items"], components, (*pointer, ("item",)), found)


def documented_limits(spec):
    """Every (operation, field, keyword) limit the document states for a request."""
    components = spec["components"]["schemas"]
    limits = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            found = []
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    _limits_in(parameter.get("schema", {}), components, (("prop", parameter["name"]),), found)
                    found[:] = [("query", *entry) if len(entry) == 4 else entry for entry in found]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                start = len(found)
                _limits_in(body, components, (), found)
                found[start:] = [("body", *entry) for entry in found[start:]]
            limits += [Limit(method.upper(), path, *entry) for entry in found]
    return limits


# Values for text fields whose pattern a run of "a" does not match, and for items the document leaves open.
EXAMPLES = {
    "email": lambda: f"walker{next(_unique)}@example.com",
    "server_seed": lambda: "ab" * 32,
    "actions[]": lambda: "stand",
}


def minimal(schema, components, name=None):
    """The smallest value `schema` accepts: required fields only, enums' first value, lower bounds."""
    schema = resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema and "properties" not in schema:
        return minimal(schema["oneOf"][0], components, name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {field: minimal(properties[field], components, field) for field in schema.get("required", ())}
    if kind == "array":
        return [minimal(schema["items"], components) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 1) >= 1 else schema["maximum"]
    if kind == "boolean":
        return False
    if kind == "string":
        if name in EXAMPLES:
            return EXAMPLES[name]()
        return "a" * max(schema.get("minLength", 1), 3)
    return None


def at_limit(limit, components, past):
    """The field's value at the limit, or one past it; None where no valid value has that size."""
    n = limit.value + (1 if past else 0)
    if limit.keyword == "maximum":
        return n
    if limit.keyword == "maxItems":
        if "items" not in limit.schema:
            return [EXAMPLES[f"{limit.field}[]"]()] * n
        return [minimal(limit.schema["items"], components)] * n
    text = "a" * n
    pattern = limit.schema.get("pattern")
    if not past and ("enum" in limit.schema or (pattern and not re.search(pattern, text))):
        return None
    return text


def place(schema, components, instance, pointer, value):
    """`instance` with `value` at `pointer`, made to match each `oneOf` branch on the way."""
    if not pointer:
        return value
    schema = resolve(schema, components)
    step, rest = pointer[0], pointer[1:]
    if step[0] == "prop":
        instance = dict(instance or {})
        child = schema["properties"][step[1]]
        instance[step[1]] = place(child, components, instance.get(step[1], minimal(child, components, step[1])), rest, value)
        return instance
    if step[0] == "item":
        items = list(instance or [minimal(schema["items"], components)])
        items[0] = place(schema["items"], components, items[0], rest, value)
        return items
    branch = resolve(schema["oneOf"][step[1]], components)
    if branch.get("type") == "object":  # a whole shape of its own (a roulette bet)
        instance = minimal(branch, components)
    else:  # a constraint on the enclosing object: fill in what selects the branch
        instance = dict(instance or {})
        for name, child in branch.get("properties", {}).items():
            if "enum" in child or name in branch.get("required", ()):
                instance[name] = minimal(child, components, name)
    return place(branch, components, instance, rest, value)


# --- valid requests to start from -----------------------------------------------------------


@dataclass
class Context:
    app: object
    client: object
    make_player: object
    make_admin: object

    def player(self, balance=None):
        return self.make_player(balance=balance)


def _headers(who):
    return {**who.headers, "Idempotency-Key": f"walk-{next(_unique)}"}


def _signup(ctx, field):
    n = next(_unique)
    return {"json": {"username": f"walker{n}", "email": f"walker{n}@example.com", "password": "correct-horse-battery"}}


def _login(ctx, field):
    player = ctx.player()
    login = {"email": player.email} if field == "email" else {"username": player.username}
    return {"json": {**login, "password": player.password}}


def _as_player(body=None, balance=None):
    def build(ctx, field):
        player = ctx.player(balance)
        return {"json": copy.deepcopy(body), "headers": _headers(player)}

    return build


def _logout(ctx, field):
    player = ctx.player()
    return {"json": {"refresh_token": player.tokens["refresh_token"]}, "headers": _headers(player)}


def _password(ctx, field):
    player = ctx.player()
    body = {"current_password": player.password, "new_password": "another-horse-battery"}
    return {"json": body, "headers": _headers(player)}


def _self_exclusion(ctx, field):
    player = ctx.player()
    return {"json": {"months": 6, "password": player.password}, "headers": _headers(player)}


def _verify_token(ctx, field):
    player = ctx.player()
    return {"json": {"token": player.tokens["access_token"], "username": player.username}}


def _verify(ctx, field):
    # Any 64 hex digits recompute a round; whether the seed was ever revealed here is only reported.
    body = {"game": "slots", "server_seed": "ab" * 32, "client_seed": "walker", "nonce": 1}
    return {"json": body, "headers": _headers(ctx.player())}


def _as_admin(body=None, target=True):
    def build(ctx, field):
        admin = ctx.make_admin()
        request = {"json": copy.deepcopy(body), "headers": _headers(admin)}
        if target:
            request["path"] = {"user_id": ctx.player(balance=0).id}
        return request

    return build


REASON = {"reason": "walking the document"}


def _tournament_body(field, *, upcoming=False):
    """A valid definition for the field under test (fields that depend on another come with it)."""
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc) + (timedelta(days=1) if upcoming else -timedelta(minutes=5))
    body = {"title": "Walker race", "metric": "wagered", "starts_at": start.isoformat(), "duration_seconds": 3600}
    if field in ("rake_percent", "guaranteed"):
        body.update(entry_fee=10, prize_pool={"mode": "entry_fees"})
    if field in ("repeat_every_seconds", "repeat_count"):
        body["repeat_every_seconds"] = 3600
    return body


def _tournament(ctx, admin, **overrides):
    from datetime import datetime

    from imperioApp.services.operators import tournaments
    from imperioApp.services.operators.audit import Operator

    body = _tournament_body(None, **overrides)
    body["starts_at"] = datetime.fromisoformat(body["starts_at"])
    with ctx.app.app_context():
        return tournaments.create(Operator(admin.id), body)["id"]


def _create_tournament(ctx, field):
    admin = ctx.make_admin()
    return {"json": _tournament_body(field), "headers": _headers(admin)}


def _change_tournament(ctx, field):
    admin = ctx.make_admin()
    tournament_id = _tournament(ctx, admin, upcoming=True)
    body = _tournament_body(field, upcoming=True)
    body = {key: value for key, value in body.items() if key not in ("title", "metric", "starts_at", "duration_seconds")}
    return {"json": body, "headers": _headers(admin), "path": {"tournament_id": tournament_id}}


def _tournament_read(admin=False):
    def build(ctx, field):
        operator = ctx.make_admin()
        tournament_id = _tournament(ctx, operator)
        return {"headers": _headers(operator if admin else ctx.player()), "path": {"tournament_id": tournament_id}}

    return build


def _pending_adjustment(ctx, field):
    """A second admin's view of an adjustment another admin asked for (to their own account: it waits)."""
    requester, approver = ctx.make_admin(), ctx.make_admin()
    response = ctx.client.post(
        f"/admin/players/{requester.id}/adjustments", json={"amount": 5, **REASON}, headers=_headers(requester)
    )
    assert response.status_code == 202, response.get_json()
    return {"json": dict(REASON), "headers": _headers(approver), "path": {"pending_id": response.get_json()["pending_id"]}}


BASE_REQUESTS = {
    ("POST", "/signup"): _signup,
    ("POST", "/login"): _login,
    ("POST", "/session/login"): _login,
    ("POST", "/logout"): _logout,
    ("POST", "/password"): _password,
    ("POST", "/spin"): _as_player({"bet": 1}),
    ("POST", "/blackjack/start"): _as_player({"wager": 1}),
    ("POST", "/blackjack/action"): _as_player({"action": "stand", "game_id": 1}),
    ("POST", "/roulette/spin"): _as_player({"bets": [{"type": "red", "amount": 1}]}),
    ("POST", "/roulette/action"): _as_player({"bet": [{"amt": 1, "numbers": "5"}]}),
    ("GET", "/games/history"): _as_player(),
    ("POST", "/verify-token"): _verify_token,
    ("POST", "/fairness/client-seed"): _as_player({"client_seed": "walker"}),
    ("POST", "/fairness/rotate"): _as_player({}),
    ("POST", "/fairness/verify"): _verify,
    ("GET", "/transactions"): _as_player(),
    ("GET", "/leaderboard"): _as_player(),
    ("GET", "/notifications"): _as_player(),
    ("PUT", "/protection/limits"): _as_player({"kind": "loss", "period": "day", "amount": 100}),
    ("GET", "/protection/limits/history"): _as_player(),
    ("POST", "/protection/timeout"): _as_player({"hours": 1}),
    ("POST", "/protection/self-exclusion"): _self_exclusion,
    ("PUT", "/protection/reality-check"): _as_player({"minutes": 30}),
    ("GET", "/admin/players"): _as_admin(target=False),
    ("GET", "/admin/players/{user_id}/ledger"): _as_admin(),
    ("GET", "/admin/players/{user_id}/rounds"): _as_admin(),
    ("GET", "/admin/players/{user_id}/limits/history"): _as_admin(),
    ("POST", "/admin/players/{user_id}/adjustments"): _as_admin({"amount": 5, **REASON}),
    ("POST", "/admin/players/{user_id}/lock"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/unlock"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/sessions/end"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/lockout/reset"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/exclusion/lift"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/chat/mute"): _as_admin({"minutes": 5, **REASON}),
    ("POST", "/admin/players/{user_id}/chat/ban"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/chat/unmute"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/chat/unban"): _as_admin(REASON),
    ("GET", "/admin/games/biggest-wins"): _as_admin(target=False),
    ("GET", "/admin/audit"): _as_admin(target=False),
    ("GET", "/admin/audit/export"): _as_admin(target=False),
    ("GET", "/admin/chat/messages"): _as_admin(target=False),
    ("GET", "/admin/adjustments"): _as_admin(target=False),
    ("POST", "/admin/adjustments/{pending_id}/approve"): _pending_adjustment,
    ("POST", "/admin/adjustments/{pending_id}/reject"): _pending_adjustment,
    ("POST", "/admin/players/{user_id}/rankings/exclude"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/rankings/include"): _as_admin(REASON),
    ("POST", "/admin/players/{user_id}/role"): _as_admin({"role": "support", **REASON}),
    ("POST", "/admin/players/{user_id}/second-factor/reset"): _as_admin(REASON),
    ("POST", "/admin/second-factor/verify"): _as_admin({}, target=False),
    ("GET", "/tournaments"): _as_player(),
    ("GET", "/tournaments/{tournament_id}/standings"): _tournament_read(),
    ("GET", "/tournaments/{tournament_id}/results"): _tournament_read(),
    ("POST", "/admin/tournaments"): _create_tournament,
    ("POST", "/admin/tournaments/preview"): _create_tournament,
    ("PATCH", "/admin/tournaments/{tournament_id}"): _change_tournament,
    ("GET", "/admin/tournaments/{tournament_id}/check"): _tournament_read(admin=True),
}


def prepare(ctx, spec, limit, past):
    """`limit`'s operation with the field at the limit (or past it), ready to send; None if no such value exists."""
    components = spec["components"]["schemas"]
    value = at_limit(limit, components, past)
    if value is None:
        return None
    request = BASE_REQUESTS[(limit.method, limit.path)](ctx, limit.field)
    path = limit.path.format(**request.get("path", {}))
    headers = request.get("headers", {})
    if limit.location == "query":
        name = limit.pointer[0][1]
        return {"path": path, "method": limit.method, "query_string": {name: value}, "headers": headers}
    operation = spec["paths"][limit.path][limit.method.lower()]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = place(body_schema, components, request.get("json") or {}, limit.pointer, value)
    return {"path": path, "method": limit.method, "json": body, "headers": headers}


def written(app):
    """Rows in every table and the coins they hold: what a refused request must leave as it was."""
    with app.app_context():
        counts = {
            table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }
        users = db.metadata.tables["users"]
        counts["balances"] = db.session.execute(select(users.c.id, users.c.balance).order_by(users.c.id)).all()
        db.session.remove()
    return counts


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def test_the_document_states_limits_and_every_one_has_a_valid_request_to_try(spec):
    limits = documented_limits(spec)
    assert len(limits) > 60
    assert {"maxItems", "maximum", "maxLength"} <= {limit.keyword for limit in limits}
    missing = sorted({(limit.method, limit.path) for limit in limits} - set(BASE_REQUESTS))
    assert missing == [], f"operations with documented limits and no valid request in BASE_REQUESTS: {missing}"


def test_every_documented_request_limit_is_enforced_exactly_at_the_boundary(app, client, make_player, make_admin, spec):
    ctx = Context(app, client, make_player, make_admin)
    problems = []
    reached = 0
    for limit in documented_limits(spec):
        request = prepare(ctx, spec, limit, past=False)
        if request is not None:
            reached += 1
            at = client.open(**request)
            if at.status_code in MALFORMED:
                problems.append(f"{limit}: refused at the limit with {at.status_code} {at.get_json()}")
        request = prepare(ctx, spec, limit, past=True)
        before = written(app)
        past = client.open(**request)
        body = past.get_json(silent=True) or {}
        if not (400 <= past.status_code < 500 and "error" in body):
            problems.append(f"{limit}: one past the limit answered {past.status_code} {body}")
        elif written(app) != before:
            problems.append(f"{limit}: one past the limit was refused but wrote {_diff(before, written(app))}")
    assert problems == [], "\n".join(problems)
    # Fields whose pattern or enum admits no value of the limit's length are tried one past it only.
    assert reached >= len(documented_limits(spec)) - 5
    assert_ledger_holds(app)


def _diff(before, after):
    return {name: (before[name], after[name]) for name in after if before.get(name) != after[name]}
