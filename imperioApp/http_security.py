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
_BODY_METHODS = {"POST", "PUT", "PATCH"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def register_security_headers(app):
    """Add CSP, nosniff, frame and referrer policies, and HSTS on HTTPS."""
    docs_path = app.config.get("OPENAPI_SWAGGER_UI_PATH", "/docs")

    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", DOCS_CSP if request.path == docs_path else API_CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if "Authorization" in request.headers:
            # A player's own data (wallet, profile, ledger) must not sit in any cache.
            headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response

    @app.before_request
    def require_json_bodies():
        if request.mimetype in FORM_TYPES and request.path in current_app.extensions.get("imperio.form_posts", ()):
            return  # the browser pages' forms (imperioApp/web)
        if (
            request.method in _BODY_METHODS
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and not request.is_json
        ):
            raise UnsupportedMediaType("request bodies must be JSON (Content-Type: application/json)")
