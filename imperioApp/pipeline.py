"""What runs around every HTTP request, in order: the one place its hooks are registered.

Flask runs the before_request hooks in the order they were registered and the after_request
and teardown_request hooks in the reverse order. So each step below wraps the steps after
it, as the layers of an onion: its before hook runs before theirs, its after hook after
theirs. Read down for the way in, up for the way out:

    step                way in (before)                    way out (after; then teardown)
    1 request log       request id                         access log; teardown: id unbound
    2 rate limits       limits, while RATELIMIT_DEFAULT    limit headers; teardown: context
    3 CORS              -                                  CORS headers (with CORS_ORIGINS)
    4 metrics           -                                  request counter and latency
    5 input guard       hostile input refused              -
    6 reality check     -                                  a due notice in a round's answer
    7 HTTP rules        JSON-only bodies                   security headers
    8 CSRF              off for the API                    -
    9 pages             form posts handed to the pages     the pages' own CSP and no-store
      (the view)

A before hook that answers (an error, or a page for a form post) skips the later before
hooks and the view; every after hook still runs on that answer.

Not registered here, because they are not request hooks: the database session is removed
when the app context ends (Flask-SQLAlchemy's teardown_appcontext, from `db.init_app`);
the bearer token is checked inside each `@jwt_required` view (its revocation callback set by
`services.identity.tokens.init_app`); Socket.IO events do not pass through these hooks.
`tests/test_pipeline.py` pins the registered order, so a change to it is deliberate.
"""

from . import http_security, metrics
from .api import protection, request_guard
from .extensions import cors, limiter
from .observability import RequestLogging
from .web import pages


def register_request_pipeline(app):
    """Register every before/after/teardown request hook of the app, in the order above."""
    # 1. Request id and access log: first in, so every later step's log lines carry the id;
    #    last out, so the logged status and duration are the final ones.
    request_logging = RequestLogging()
    app.before_request(request_logging.bind_request_id)
    app.after_request(request_logging.log_request)
    app.teardown_request(request_logging.unbind_request_id)
    # 2. Rate limits (Flask-Limiter registers its before, after and teardown hooks): before
    #    anything reads the body, so a refused flood costs the least; its headers go on
    #    whatever answer the inner steps made, including their refusals.
    limiter.init_app(app)
    # 3. CORS headers on every answer, refusals included. Installed only when an origin is
    #    allowed: otherwise it adds nothing and would still run on every response.
    if app.config["CORS_ORIGINS"]:
        cors.init_app(app, origins=app.config["CORS_ORIGINS"], expose_headers=["X-Request-ID"])
    # 4. Request counter and latency: after the inner steps, so the counted status is the one
    #    sent (a rate-limit refusal is counted too).
    app.after_request(metrics.count_request)
    # 5. Hostile-input guard: before the pages' form dispatch, webargs and the views read the
    #    body or the URL, so a hostile body never reaches a parser or the database.
    app.before_request(request_guard.refuse_hostile_input)
    # 6. Reality check: rewrites a settlement's JSON body, so it runs before the outer steps
    #    add headers about the final body.
    app.after_request(protection.attach_reality_check)
    # 7. JSON-only bodies and the security headers: the headers after the pages' own (step 9),
    #    which they keep, and on every answer of the API.
    app.before_request(http_security.require_json_bodies)
    app.after_request(http_security.security_headers(app))
    # 8. CSRF (Flask-WTF registers its before hook): off for the bearer-only API
    #    (WTF_CSRF_CHECK_DEFAULT); the pages' forms check their token themselves.
    pages.csrf.init_app(app)
    # 9. The browser pages: a form post to /signup, /login or /logout is the page's, once the
    #    checks above passed; a page's own CSP and no-store go on first, so step 7 keeps them.
    app.before_request(pages.dispatch_form_posts)
    app.after_request(pages.page_headers)
