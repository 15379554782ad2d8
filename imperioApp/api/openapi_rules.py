"""The input rules the server enforces beyond the marshmallow schemas, written into the OpenAPI document.

The schemas describe types; some refusals come from the services and engines (table
limits, bet shapes, character sets, one identifier on login). A client or a fuzzer that
follows the document must not be refused, so each such rule is stated here, derived from
the constant or setting that enforces it, and every limit stated (maxItems, maximum,
maxLength) is exactly the one enforced (tests/api/test_documented_limits.py walks them).
Where JSON Schema cannot express a rule across fields (the total of a spin's bets, which
blackjack actions a hand allows, `from` not after `to`), the rule is stated in the
description and its refusal has a code of its own.
"""

import copy

from ..games import blackjack, roulette, slots
from ..games.fairness import CLIENT_SEED_MAX_LENGTH
from ..services.engagement import leaderboards
from ..services.money import idempotency
from .request_guard import MAX_INTEGER_DIGITS, MAX_JSON_DEPTH

# No NUL (PostgreSQL refuses it); lone surrogates, refused too, are stated in the description.
PLAIN_TEXT = "^[^\\u0000]*$"
PRINTABLE_ASCII = "^[!-~]{1,%d}$"
# A subset of the addresses marshmallow's Email accepts (labels up to 63, a TLD of two letters or more).
_LABEL = "[a-z0-9]{1,15}(-[a-z0-9]{1,15}){0,2}"
EMAIL = f"^[a-z0-9]{{1,32}}([._+-][a-z0-9]{{1,32}}){{0,2}}@{_LABEL}(\\.{_LABEL}){{0,2}}\\.[a-z]{{2,6}}$"


def document_input_rules(api, config):
    """Rewrite the app's OpenAPI document so it states every input rule of `config`'s server."""
    schemas = api.spec.components.schemas
    paths = api.spec._paths  # apispec keeps resolved operations here; there is no public setter
    _table_limits(schemas, config)
    _roulette_bet_shapes(schemas, config)
    _character_sets(schemas, paths)
    schemas["Login"]["oneOf"] = [{"required": ["username"]}, {"required": ["email"]}]
    schemas["Login"]["description"] = "Exactly one of username and email, and the password."
    schemas["BlackjackAction"]["properties"]["action"]["enum"] = [*blackjack.ACTIONS, "double"]
    _verify_inputs(schemas, config)
    _protection_rules(schemas, config)
    _operator_rules(schemas, paths, config)
    _query_rules(paths)
    _browser_pages(paths, api.spec.components.responses)
    for operation in _operations(paths):
        _no_plain_text_gaps(operation, schemas)
    api.spec.options.setdefault("info", {})["description"] = (
        f"JSON bodies nest at most {MAX_JSON_DEPTH} levels; integers have at most {MAX_INTEGER_DIGITS} digits; "
        'no text may contain NUL or an unpaired surrogate. Errors are {"error": {"code", "message"}}.'
    )


def _operations(paths):
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters":
                yield operation


def _table_limits(schemas, config):
    # Every coin amount is bounded by the balance ceiling too; the table limits are tighter
    # unless a deployment raised them past it.
    ceiling = config["MAX_BALANCE"]
    schemas["Spin"]["properties"]["bet"]["maximum"] = min(config[slots.STAKE_LIMIT_SETTING], ceiling)
    # Ignored, and accepted as any short value; the old client sends its username.
    schemas["Spin"]["properties"]["userId"] = {
        "type": "string",
        "nullable": True,
        "maxLength": 254,
        "pattern": PLAIN_TEXT,
        "description": "ignored (old client)",
    }
    schemas["BlackjackStart"]["properties"]["wager"]["maximum"] = min(config[blackjack.STAKE_LIMIT_SETTING], ceiling)
    schemas["Adjustment"]["properties"]["amount"].update({"minimum": -ceiling, "maximum": ceiling})


def _bet_shapes(amount):
    """One `oneOf` branch per roulette bet type, each bet's amount as `amount` states it."""
    shapes = []
    for bet_type, covers in sorted(roulette.PLACEMENTS.items()):
        properties = {"type": {"type": "string", "enum": [bet_type]}, "amount": amount}
        required = ["type", "amount"]
        if bet_type in ("dozen", "column"):
            properties["index"] = {"type": "integer", "enum": [1, 2, 3]}
            required.append("index")
        elif len(covers) > 1:
            properties["numbers"] = {"type": "array", "enum": [sorted(cover) for cover in covers]}
            required.append("numbers")
        shapes.append({"type": "object", "properties": properties, "required": required, "additionalProperties": False})
    return {"oneOf": shapes, "description": "A bet: its type and, where the type has several placements, which one."}


def _roulette_bet_shapes(schemas, config):
    # One bet may stake the whole table limit; JSON Schema cannot add up the bets of a spin,
    # so the total is stated in words (and refused as above_table_limit).
    total_rule = (
        f"At most {config['ROULETTE_MAX_BETS']} bets; all bets of one spin together at most "
        f"{config[roulette.STAKE_LIMIT_SETTING]} coins."
    )
    amount = {"type": "integer", "minimum": 1, "maximum": min(config[roulette.STAKE_LIMIT_SETTING], config["MAX_BALANCE"])}
    bet = schemas["RouletteBet"]
    bet.clear()
    bet.update(_bet_shapes(amount))
    spin = schemas["RouletteSpin"]["properties"]["bets"]
    spin.update({"maxItems": config["ROULETTE_MAX_BETS"], "description": total_rule})
    legacy = schemas["LegacyBet"]["properties"]
    legacy["amt"].update({"minimum": 1, "maximum": amount["maximum"]})
    legacy["numbers"] = {
        "type": "string",
        "enum": sorted({",".join(map(str, sorted(cover))) for covers in roulette.PLACEMENTS.values() for cover in covers}),
        "description": "the covered numbers, comma-separated; the bet's type follows from them",
    }
    # Sent by the old client and ignored; documented as it sends them.
    legacy["odds"] = {"type": "number", "nullable": True, "description": "ignored: the server pays its own odds"}
    legacy["type"].update({"nullable": True, "description": "ignored: the shape follows from the numbers"})
    schemas["LegacyRoulette"]["properties"]["bet"].update({"maxItems": config["ROULETTE_MAX_BETS"], "description": total_rule})


def _character_sets(schemas, paths):
    seed = {
        "type": "string",
        "pattern": PRINTABLE_ASCII % CLIENT_SEED_MAX_LENGTH,
        "minLength": 1,
        "maxLength": CLIENT_SEED_MAX_LENGTH,
    }
    for name in ("ClientSeed", "Rotate", "Verify"):
        schemas[name]["properties"]["client_seed"].update(seed)
    schemas["Verify"]["properties"]["server_seed"] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    schemas["Signup"]["properties"]["email"] = {"type": "string", "maxLength": 254, "pattern": EMAIL}
    for operation in _operations(paths):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                parameter["schema"] = {"type": "string", "pattern": PRINTABLE_ASCII % idempotency.MAX_KEY_LENGTH}


def _verify_inputs(schemas, config):
    # A recorded round is recomputed whatever today's table limits are (they may have been
    # higher when it was played): stakes are bounded only by the integer rule of every body.
    stake = {"type": "integer", "minimum": 1, "maximum": 10**MAX_INTEGER_DIGITS - 1}
    schemas["VerifiedRouletteBet"] = _bet_shapes(stake)
    verify = schemas["Verify"]
    by_game = {
        "slots": {"type": "object", "properties": {"bet": {**stake, "default": 1}}, "additionalProperties": False},
        "roulette": {
            "type": "object",
            "required": ["bets"],
            "additionalProperties": False,
            "properties": {
                "bets": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/VerifiedRouletteBet"}}
            },
        },
        # Which actions a hand allows depends on its cards: one it does not is refused (409).
        "blackjack": {
            "type": "object",
            "required": ["wager"],
            "additionalProperties": False,
            "properties": {
                "wager": stake,
                "actions": {"type": "array", "items": {"type": "string", "enum": list(blackjack.ACTIONS)}},
            },
        },
    }
    verify["oneOf"] = [
        {"properties": {"game": {"enum": [game]}, "inputs": shape}, **({"required": ["inputs"]} if game != "slots" else {})}
        for game, shape in by_game.items()
    ]
    verify["properties"]["inputs"]["description"] = (
        'the round\'s inputs: slots {"bet"}, roulette {"bets"}, blackjack {"wager", "actions"} '
        "(actions the recorded hand allowed, in order)"
    )


def _protection_rules(schemas, config):
    low, high = config["REALITY_CHECK_MINUTES_RANGE"]
    schemas["RealityCheck"]["properties"]["minutes"].update({"minimum": low, "maximum": high})
    schemas["SelfExclusion"]["oneOf"] = [
        {"required": ["months"], "properties": {"permanent": {"enum": [False]}}},
        {"required": ["permanent"], "properties": {"permanent": {"enum": [True]}}, "not": {"required": ["months"]}},
    ]
    schemas["SelfExclusion"]["description"] = "Either months, or permanent: true."


def _operator_rules(schemas, paths, config):
    # A balance adjustment without a key is refused (400 idempotency_key_required).
    adjustments = paths["/admin/players/{user_id}/adjustments"]["post"]
    for parameter in adjustments.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
            parameter["required"] = True
    # The chat service's range (chat.sanction), as every entry point enforces it.
    minutes = {"minimum": 1, "maximum": config["CHAT_MAX_MUTE_MINUTES"]}
    schemas["Mute"]["properties"]["minutes"].update(minutes)
    schemas["Ban"]["properties"]["minutes"].update(minutes)


# POST /signup, /login and /logout are also the browser pages' form posts (web/pages.py): a
# form-encoded body is the page's, answered in HTML; GET renders the form. Both are stated so
# a client that follows the document finds every method these paths answer.
_HTML = {"text/html": {"schema": {"type": "string"}}}
_REDIRECT = {"description": "To the next page (HTML).", "headers": {"Location": {"schema": {"type": "string"}}}}
_CSRF = {"type": "string", "description": "The token of the form the page rendered (its hidden field)."}
_PAGE_FORMS = {
    "/signup": (
        "The sign-up page.",
        {"username": {"type": "string"}, "email": {"type": "string"}, "password": {"type": "string"}},
        {"409": "The username or email is taken (the form again)."},
    ),
    "/login": (
        "The login page (username or email).",
        {"login": {"type": "string"}, "password": {"type": "string"}, "next": {"type": "string"}},
        {"401": "Wrong credentials (the form again)."},
    ),
    "/logout": ("Asks before logging out; without a browser session, a redirect to the login page.", {}, {}),
}


def _browser_pages(paths, shared_responses):
    for path, (summary, fields, refusals) in _PAGE_FORMS.items():
        paths[path]["get"] = {
            "tags": ["pages"],
            "summary": summary,
            "security": [],
            "responses": {"200": {"description": "The page (HTML).", "content": _HTML}, "302": _REDIRECT},
        }
        post = paths[path]["post"]
        form = {"type": "object", "properties": {**fields, "csrf_token": _CSRF}, "required": ["csrf_token", *fields]}
        form["required"] = [name for name in form["required"] if name != "next"]
        post["requestBody"].setdefault("content", {})["application/x-www-form-urlencoded"] = {"schema": form}
        post["description"] = (
            post.get("description", "") + "\n\nA form-encoded body is the browser page's form post: it is answered "
            "in HTML, with a redirect on success and the form again, with the error, otherwise "
            "(403 without the page's own CSRF token)."
        ).lstrip()
        responses = post["responses"]
        responses["303"] = _REDIRECT
        for status, description in {
            "403": "Not the page's own form (CSRF).",
            "422": "Invalid fields (the form again).",
            "429": "Too many attempts (the form again).",
            **refusals,
        }.items():
            # The JSON API may answer the same status with its error shape.
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            response = responses.setdefault(status, {"description": description, "content": error})
            if "$ref" in response:  # a $ref takes no siblings: the shared answer, copied, gains HTML
                response = responses[status] = copy.deepcopy(shared_responses[response["$ref"].rsplit("/", 1)[-1]])
            response.setdefault("content", {}).update(_HTML)


def _query_rules(paths):
    for operation in _operations(paths):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            schema = parameter.setdefault("schema", {})
            if parameter["name"] == "metric" and "enum" not in schema:
                schema["enum"] = list(leaderboards.METRICS)
            elif parameter["name"] == "timeframe" and "enum" not in schema:
                schema["enum"] = list(leaderboards.TIMEFRAMES)


def _no_plain_text_gaps(operation, schemas):
    """Every free-text input refuses NUL: say so wherever no enum or pattern already narrows it."""
    for parameter in operation.get("parameters", []):
        _plain_text(parameter.get("schema", {}))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    _plain_text(body, schemas, seen=set())


def _plain_text(schema, schemas=None, seen=None):
    if "$ref" in schema and schemas is not None:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _plain_text(schemas[name], schemas, seen)
        return
    if schema.get("type") == "string" and "enum" not in schema and "pattern" not in schema:
        schema["pattern"] = PLAIN_TEXT
    children = [*schema.get("properties", {}).values(), *schema.get("oneOf", ())]
    if isinstance(schema.get("items"), dict):
        children.append(schema["items"])
    for child in children:
        _plain_text(child, schemas, seen)
