"""The speed-ups: each targets the version it lists, and each internal it relies on is still there.

When one of these fails after an upgrade, the library changed under a speed-up: read its
change, adapt (or drop) the speed-up in `imperioApp/speedups/`, then move the version.
"""

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from imperioApp import speedups
from imperioApp.speedups import SPEEDUPS

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def parameters(function):
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("speedup", SPEEDUPS, ids=lambda speedup: speedup.name)
def test_the_installed_version_is_the_one_the_speedup_was_written_against(speedup):
    assert version(speedup.distribution) == speedup.version, (
        f"{speedup.distribution} {version(speedup.distribution)} is installed; the speed-up "
        f"'{speedup.name}' (imperioApp/speedups/{speedup.module}.py) relies on {speedup.relies_on} "
        f"of {speedup.version}: check that internal in the new version, then move the version"
    )
    pinned = re.search(rf"^{re.escape(speedup.distribution)}==(\S+)$", REQUIREMENTS.read_text(), flags=re.MULTILINE)
    assert pinned and pinned.group(1) == speedup.version, f"requirements.txt pins {speedup.distribution} elsewhere"
    assert (Path(speedups.__file__).parent / f"{speedup.module}.py").exists()
    assert speedup.saves and speedup.relies_on


def flask_ensure_sync():
    import flask.app
    from flask import Flask

    assert parameters(Flask.ensure_sync) == ["self", "func"]
    # What the cache saves: Flask's own check, asked of every hook and view.
    assert "iscoroutinefunction(func)" in inspect.getsource(Flask.ensure_sync)
    assert callable(flask.app.iscoroutinefunction)


def flask_cookie_sessions():
    from flask.sessions import SecureCookieSessionInterface

    assert parameters(SecureCookieSessionInterface.open_session) == ["self", "app", "request"]
    assert parameters(SecureCookieSessionInterface.get_cookie_name) == ["self", "app"]
    assert "get_signing_serializer" in inspect.getsource(SecureCookieSessionInterface.open_session)
    assert SecureCookieSessionInterface.session_class is not None


def limiter_check():
    from flask_limiter import Limiter

    assert parameters(Limiter._check_request_limit) == ["self", "callable_name", "in_middleware"]
    assert "app.before_request(self._check_request_limit)" in inspect.getsource(Limiter.init_app)


def limiter_context():
    from flask import Flask
    from flask_limiter import Limiter

    from imperioApp.speedups.limiter import INJECT_HEADERS, RELEASE_CONTEXT, RouteLimiter

    assert parameters(getattr(Limiter, INJECT_HEADERS)) == ["self", "response"]
    assert parameters(getattr(Limiter, RELEASE_CONTEXT)) == ["self", "_"]
    assert "_limiter_request_context" in inspect.getsource(Limiter)
    assert "self._storage_dead = False" in inspect.getsource(Limiter.__init__)
    # Both hooks found where init_app registered them, and wrapped.
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    RouteLimiter(key_func=lambda: "test").init_app(app)
    wrapped = [hook for hooks in (app.after_request_funcs[None], app.teardown_request_funcs[None]) for hook in hooks]
    assert [hasattr(hook, "__wrapped__") for hook in wrapped] == [True, True]


def jwt_decode():
    from flask_jwt_extended import JWTManager

    assert parameters(JWTManager._decode_jwt_from_config) == ["self", "encoded_token", "csrf_value", "allow_expired"]


def jwt_header():
    from flask_jwt_extended import view_decorators

    from imperioApp.speedups.jwt_tokens import HEADER_PARSER, _parse_header

    assert parameters(_parse_header) == ["encoded_token"]
    source = inspect.getsource(view_decorators)
    assert f"{HEADER_PARSER}(" in source.replace(f"import {HEADER_PARSER}", "")
    assert f"from flask_jwt_extended.utils import {HEADER_PARSER}" in source


def webargs_json():
    from webargs.flaskparser import FlaskParser

    assert parameters(FlaskParser._raw_load_json) == ["self", "req"]
    # The one place webargs reads a JSON body, for every location="json" argument.
    assert "self._raw_load_json(req)" in inspect.getsource(FlaskParser.load_json)


def smorest_schema():
    import flask_smorest

    assert parameters(flask_smorest.Blueprint.arguments)[:2] == ["self", "schema"]
    assert hasattr(flask_smorest.Blueprint, "ARGUMENTS_PARSER")


def session_close():
    from flask_sqlalchemy.session import Session

    assert parameters(Session.close) == ["self"]
    assert parameters(Session.in_transaction) == ["self"]
    assert isinstance(Session.new, property) and isinstance(Session.deleted, property)
    # What the skipped close would do: rebuild the identity map, then close the transaction.
    assert "self.expunge_all()" in inspect.getsource(Session._close_impl)
    assert "self.identity_map = " in inspect.getsource(Session.expunge_all)


def psycopg2_json():
    from psycopg2.extras import register_default_json, register_default_jsonb

    for register in (register_default_json, register_default_jsonb):
        assert parameters(register) == ["conn_or_curs", "globally", "loads"]


RELIES_ON = {
    "each view and hook judged once for being a coroutine": flask_ensure_sync,
    "no cookie parse for a request without the session cookie": flask_cookie_sessions,
    "no limit evaluation on routes without a limit of their own": limiter_check,
    "no limiter context for after-request and teardown in a request that checked no limit": limiter_context,
    "each token verified once per process": jwt_decode,
    "a verified token's header parsed once per header form": jwt_header,
    "one JSON parse per request: webargs takes the body the request guard parsed": webargs_json,
    "one argument schema instance per route": smorest_schema,
    "a session with nothing to close is not rebuilt at close": session_close,
    "psycopg2 decodes json columns with orjson": psycopg2_json,
}


def test_every_speedup_has_a_check_of_what_it_relies_on():
    assert list(RELIES_ON) == [speedup.name for speedup in SPEEDUPS]


@pytest.mark.parametrize("name", list(RELIES_ON))
def test_the_internal_a_speedup_relies_on_is_still_there(name):
    RELIES_ON[name]()


def test_create_app_installs_them(app):
    from flask_jwt_extended import view_decorators

    from imperioApp.extensions import db, limiter
    from imperioApp.services.identity.tokens import jwt
    from imperioApp.speedups.db_sessions import LeanCloseSession
    from imperioApp.speedups.flask_app import CookieSessions, ImperioFlask
    from imperioApp.speedups.jwt_tokens import VerifiedTokenCache, verified_token_header
    from imperioApp.speedups.limiter import RouteLimiter

    assert isinstance(app, ImperioFlask)
    assert isinstance(app.session_interface, CookieSessions)
    assert isinstance(limiter, RouteLimiter) and isinstance(jwt, VerifiedTokenCache)
    assert view_decorators.get_unverified_jwt_headers is verified_token_header
    with app.app_context():
        assert isinstance(db.session(), LeanCloseSession)
