"""Property: a hostile value in any body field or query parameter of any endpoint is a 4xx JSON error and writes nothing.

The endpoints and their fields come from the app's own OpenAPI document, so endpoints added
later are covered without touching this file. Each field gets the hostile value inside an
otherwise valid request (the base bodies below), so the value itself is what gets judged.
"""

import json
from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from imperioApp.extensions import db

HOSTILE = '"__hostile__"'
BASE_BODIES = {
    ("POST", "/signup"): {"username": "fuzz_user", "email": "fuzz@example.com", "password": "long-enough-pw"},
    ("POST", "/login"): {"username": "fuzz_user", "password": "wrong-password"},
    ("POST", "/password"): {"current_password": "wrong-password", "new_password": "another-password"},
    ("PATCH", "/profile"): {"public_stats": True},
    ("POST", "/spin"): {"bet": 1},
    ("POST", "/blackjack/start"): {"wager": 1},
    ("POST", "/blackjack/action"): {"action": "hit", "game_id": 1},
    ("POST", "/roulette/spin"): {"bets": [{"type": "red", "amount": 1}]},
    ("POST", "/roulette/action"): {"bet": [{"amt": 1, "numbers": "1", "odds": 35, "type": "straight"}]},
    ("POST", "/fairness/client-seed"): {"client_seed": "fuzz-seed"},
    ("POST", "/fairness/rotate"): {"client_seed": "fuzz-seed"},
    ("POST", "/fairness/verify"): {"game": "slots", "server_seed": "a" * 64, "client_seed": "c", "nonce": 0},
}
BASE_QUERIES = {("GET", "/leaderboard"): {"metric": "games_played", "timeframe": "daily"}}


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    location: str  # "json" or "query"
    field: str
    is_instant: bool


@dataclass(frozen=True)
class Hostile:
    kind: str
    json_text: str = None  # the value as it appears in a JSON body
    query_text: str = None  # the value as it appears, already encoded, in a query string
    raw_body: bytes = None  # a whole body that is not even UTF-8
    instants_only: bool = False


def targets(app):
    """Every (endpoint, field) the OpenAPI document declares as a body field or query parameter."""
    spec = app.extensions["imperio.api"].spec.to_dict()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        concrete = path.replace("{", "").replace("}", "")  # /games/round_id: a path the router refuses or serves
        for method, operation in operations.items():
            if method == "parameters":
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body = schemas[body["$ref"].split("/")[-1]] if "$ref" in body else body
            for name, prop in body.get("properties", {}).items():
                found.append(Target(method.upper(), concrete, "json", name, prop.get("format") == "date-time"))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    is_instant = parameter.get("schema", {}).get("format") == "date-time"
                    found.append(Target(method.upper(), concrete, "query", parameter["name"], is_instant))
    return found


def hostile_values():
    nul_text = st.text(max_size=12).map(lambda text: text + "\x00" + text)
    return st.one_of(
        nul_text.map(lambda text: Hostile("nul", json.dumps(text), quote(text))),
        st.integers(33, 3000).map(lambda depth: Hostile("deep", "[" * depth + "]" * depth, "[" * depth)),
        st.integers(4301, 6000).flatmap(
            lambda digits: st.sampled_from(["", "-"]).map(lambda sign: Hostile("huge", sign + "9" * digits, sign + "9" * digits))
        ),
        st.integers(5000, 20000).map(lambda size: Hostile("long", json.dumps("x" * size), "x" * size)),
        st.sampled_from(["1e400", "-1e400", "NaN", "Infinity"]).map(lambda text: Hostile("float", text, text)),
        st.sampled_from([b'"\xff\xfe"', b'"\xc3\x28"', b'"\xed\xa0\x80"']).map(
            lambda raw: Hostile("non_utf8", raw_body=raw, query_text="%FF%FE")
        ),
        st.sampled_from(
            ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "99999-01-01T00:00:00", "0000-00-00T00:00:00"]
        ).map(lambda text: Hostile("instant", json.dumps(text), quote(text), instants_only=True)),
    )


def rows_everywhere(app):
    with app.app_context():
        counts = {
            table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return counts


def send(client, target, value, headers):
    if target.location == "query":
        query = "&".join(
            f"{key}={quote(str(item))}"
            for key, item in BASE_QUERIES.get((target.method, target.path), {}).items()
            if key != target.field
        )
        query = f"{query}&{target.field}={value.query_text}" if query else f"{target.field}={value.query_text}"
        return client.open(f"{target.path}?{query}", method=target.method, headers=headers)
    base = {key: item for key, item in BASE_BODIES.get((target.method, target.path), {}).items() if key != target.field}
    if value.raw_body is not None:
        body = json.dumps({**base, target.field: "__hostile__"}).encode().replace(HOSTILE.encode(), value.raw_body)
    else:
        body = json.dumps({**base, target.field: "__hostile__"}).replace(HOSTILE, value.json_text)
    return client.open(target.path, method=target.method, data=body, content_type="application/json", headers=headers)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=hostile_values())
def test_a_hostile_value_anywhere_is_a_4xx_json_error_and_writes_nothing(app, client, player, value):
    everywhere = targets(app)
    assert len(everywhere) > 20, "the OpenAPI document lost its fields"
    before = rows_everywhere(app)
    for target in everywhere:
        if value.instants_only and not target.is_instant:
            continue
        response = send(client, target, value, player.headers)
        assert 400 <= response.status_code < 500, (target, value.kind, response.status_code, response.get_data()[:300])
        body = response.get_json()
        assert isinstance(body, dict) and {"code", "message"} <= set(body.get("error", {})), (target, value.kind, body)
    assert rows_everywhere(app) == before, value.kind
