"""Speed-ups: every override of a third-party internal made for speed, in one package.

Each one reaches into a library past its public API (or replaces something the library
does on every request), saves a measured cost, and is written against one version of that
library: `SPEEDUPS` lists them with that version (the one `requirements.txt` pins), the
internal each relies on, and what it saved when it was measured (`bench/RESULTS.md`).
`tests/test_speedups.py` fails loudly when an installed version differs from the one
listed, or when an internal a speed-up relies on is gone or has changed its signature:
read the library's change before moving the pin.

How each is installed, all from `create_app` (nothing is patched when a module is imported):
the app, limiter, JWT manager, session and blueprint classes are subclasses the app builds
its objects from; `install(app)` sets the rest (the cookie session interface, and two
process-wide settings: the JWT header parse and, on PostgreSQL, psycopg2's JSON decoder).

Not here, because they override nothing: Gunicorn's C HTTP parser (`gunicorn_h1c`, an
installed extra Gunicorn picks up itself), orjson for the round's JSON (`json_codec`), and
the caches and prebuilt statements of the app's own code.
"""

from dataclasses import dataclass

from .flask_app import CookieSessions
from .jwt_tokens import keep_token_headers
from .pg_json import decode_json_columns_with_json_codec


@dataclass(frozen=True)
class Speedup:
    """One override: where it is, the library and version it targets, what it relies on, what it saves."""

    name: str
    module: str  # imperioApp.speedups.<module>
    distribution: str  # the installed distribution whose internal it uses
    version: str  # the version it was written against (pinned in requirements.txt)
    relies_on: str
    saves: str


SPEEDUPS = (
    Speedup(
        "each view and hook judged once for being a coroutine",
        "flask_app",
        "Flask",
        "3.1.3",
        "Flask.ensure_sync(func), called for every hook and view of every request",
        "about 4 us a request (0.2 us a call)",
    ),
    Speedup(
        "no cookie parse for a request without the session cookie",
        "flask_app",
        "Flask",
        "3.1.3",
        "SecureCookieSessionInterface.open_session(app, request) building its serializer first",
        "9 us a request without the cookie (every API call)",
    ),
    Speedup(
        "no limit evaluation on routes without a limit of their own",
        "limiter",
        "Flask-Limiter",
        "4.1.1",
        "Limiter._check_request_limit(callable_name, in_middleware), its before_request hook",
        "about a tenth of a round's CPU while RATELIMIT_DEFAULT is unset",
    ),
    Speedup(
        "no limiter context for after-request and teardown in a request that checked no limit",
        "limiter",
        "Flask-Limiter",
        "4.1.1",
        "the name-mangled Limiter.__inject_headers and Limiter.__release_context hooks, and the "
        "request context's _limiter_request_context",
        "2-3 % of a game request",
    ),
    Speedup(
        "each token verified once per process",
        "jwt_tokens",
        "Flask-JWT-Extended",
        "4.7.4",
        "JWTManager._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)",
        "the largest single cost of an authenticated request (three base64/JSON decodes and an HMAC); not measured alone",
    ),
    Speedup(
        "a verified token's header parsed once per header form",
        "jwt_tokens",
        "Flask-JWT-Extended",
        "4.7.4",
        "the module global view_decorators.get_unverified_jwt_headers(encoded_token)",
        "7.5 % of the request layer's samples, about 40 us a request (30 us on a faster machine)",
    ),
    Speedup(
        "one JSON parse per request: webargs takes the body the request guard parsed",
        "request_args",
        "webargs",
        "8.7.1",
        "FlaskParser._raw_load_json(req)",
        "not measured alone: one of the changes taking /spin from 790-820 to 600-660 us",
    ),
    Speedup(
        "one argument schema instance per route",
        "request_args",
        "flask-smorest",
        "0.47.0",
        "Blueprint.arguments(schema, ...) handing webargs a schema class to build per request",
        "27 us per /spin",
    ),
    Speedup(
        "a session with nothing to close is not rebuilt at close",
        "db_sessions",
        "SQLAlchemy",
        "2.1.9",
        "Session.close() rebuilding the identity map and transaction state; in_transaction(), identity_map, new, deleted",
        "2 % of /spin",
    ),
    Speedup(
        "psycopg2 decodes json columns with orjson",
        "pg_json",
        "psycopg2-binary",
        "2.9.13",
        "psycopg2.extras.register_default_json / register_default_jsonb(globally, loads)",
        "with orjson for the round's JSON and answers: /spin 800 -> 703 us",
    ),
)


def install(app):
    """Install what the app's own classes do not: the cookie sessions and two process-wide settings."""
    app.session_interface = CookieSessions()
    keep_token_headers()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        decode_json_columns_with_json_codec()
