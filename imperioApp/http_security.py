"""Security headers on every response, and the JSON-only request rule."""

from flask import current_app, request
from werkzeug.exceptions import UnsupportedMediaType

# The API serves JSON only; the docs page runs flask-smorest's inline Swagger UI setup
# over the bundle served from this host.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The lobby: its own scripts, styles and socket only, no inline script.
LOBBY_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
# Set on every response unless the view set its own.
_EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_BODY_METHODS = {"POST", "PUT", "PATCH"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def security_headers(app):
    """The after_request hook adding CSP, nosniff, frame and referrer policies, and HSTS on HTTPS."""
    docs_path = app.config.get("OPENAPI_SWAGGER_UI_PATH", "/docs")

    def add_headers(response):
        headers = response.headers
        # Each lookup in werkzeug's Headers is a scan of the list: read the names once.
        present = {name.lower() for name in headers.keys()}
        wanted = [("Content-Security-Policy", DOCS_CSP if request.path == docs_path else API_CSP)]
        wanted += _EVERY_RESPONSE
        if "Authorization" in request.headers:
            # A player's own data (wallet, profile, ledger) must not sit in any cache.
            wanted.append(("Cache-Control", "no-store"))
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", HSTS))
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return response

    return add_headers


def require_json_bodies():
    """before_request: a POST, PUT or PATCH body is JSON (the browser pages' forms excepted)."""
    if request.mimetype in FORM_TYPES and request.path in current_app.extensions.get("imperio.form_posts", ()):
        return  # the browser pages' forms (imperioApp/web)
    if (
        request.method in _BODY_METHODS
        and (request.content_length or request.headers.get("Transfer-Encoding"))
        and not request.is_json
    ):
        raise UnsupportedMediaType("request bodies must be JSON (Content-Type: application/json)")
