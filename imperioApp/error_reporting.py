"""Error reporting to Sentry (or any endpoint speaking its protocol), on only when SENTRY_DSN is set.

Unset, nothing is imported or initialised: `init_app` reads one setting and returns. Set, each
unhandled error is sent with the request id (tag `request_id`, the `X-Request-ID` of the logs)
and the player's id (user `id` only), the environment and the release. What could carry a
credential never leaves: request bodies, cookies and local variables are not collected, and
`scrub_event` filters every header, query parameter or field named like a credential and every
bearer token or JWT wherever it appears in the event.
"""

import logging
import re
import sys
from pathlib import Path

from flask import g, has_request_context

FILTERED = "[Filtered]"
# Names whose values are credentials or could be: headers, query parameters, body fields, context keys.
_SENSITIVE_NAME = re.compile(r"auth|token|secret|passw|pwd|cookie|csrf|xsrf|session|jwt|bearer|api[-_]?key|signature", re.I)
# A JWT (three base64url parts, the first a JSON header) or a bearer credential inside any string.
_CREDENTIAL_VALUE = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*|(?i:bearer)\s+\S+")


def init_app(app):
    """Start the SDK for this process when SENTRY_DSN is set; otherwise do nothing at all."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT") or app.config["ENV_NAME"],
        release=app.config.get("SENTRY_RELEASE") or checkout_release(),
        # Log lines become breadcrumbs, never events of their own: the 500 handler reports its
        # error once (`capture`), and the error log line it writes would be a second event.
        integrations=[FlaskIntegration(), LoggingIntegration(level=logging.INFO, event_level=None)],
        before_send=scrub_event,
        before_breadcrumb=_scrub_breadcrumb,
        # Errors only: no performance tracing, no sessions.
        traces_sample_rate=None,
        auto_session_tracking=False,
        data_collection={
            # The user is the player's id alone, set by `scrub_event`; no address, no cookies.
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            # Locals may hold a password or a token under any name.
            "stack_frame_variables": False,
        },
    )


def capture(error):
    """Report an error the app answered itself (its 500 handler); nothing when reporting is off."""
    sentry_sdk = sys.modules.get("sentry_sdk")
    if sentry_sdk is not None and sentry_sdk.get_client().is_active():
        sentry_sdk.capture_exception(error)


def checkout_release(root=None):
    """The commit checked out at `root` (this project), read from .git without running git; None if unknown."""
    git = Path(root or Path(__file__).resolve().parents[1]) / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.is_file() else git
        for directory in (git, base):
            if (directory / ref).is_file():
                return (directory / ref).read_text().strip()
        for line in (base / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    except (OSError, IndexError):
        pass
    return None


def scrub_event(event, hint):
    """before_send: attach the request id and player id, then remove every credential from the event."""
    if has_request_context():
        request_id = g.get("request_id")
        if request_id:
            event.setdefault("tags", {})["request_id"] = request_id
        user_id = _player_id()
        event["user"] = {"id": str(user_id)} if user_id is not None else {}
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        query = request.get("query_string")
        if isinstance(query, str):
            request["query_string"] = _scrub_query(query)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    # The installed packages' list is kept as is: names such as pyjwt are not credentials.
    modules = event.pop("modules", None)
    event = _scrub(event)
    if modules is not None:
        event["modules"] = modules
    return event


def _scrub_breadcrumb(breadcrumb, hint):
    return _scrub(breadcrumb)


def _player_id():
    # Known only once the view checked a bearer token; an error before that names no player.
    from .services.identity import tokens

    try:
        return tokens.current_user_id()
    except (RuntimeError, KeyError, TypeError, ValueError):
        return None


def _scrub_query(query):
    pairs = []
    for pair in query.split("&"):
        name = pair.split("=", 1)[0]
        pairs.append(f"{name}={FILTERED}" if _SENSITIVE_NAME.search(name) else _CREDENTIAL_VALUE.sub(FILTERED, pair))
    return "&".join(pairs)


def _scrub(value):
    """`value` with every credential-named entry's value and every credential-shaped string filtered."""
    if isinstance(value, dict):
        return {key: FILTERED if _sensitive_key(key) else _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        # Headers may come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _SENSITIVE_NAME.search(value[0]):
            return [value[0], FILTERED]
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return _CREDENTIAL_VALUE.sub(FILTERED, value)
    return value


def _sensitive_key(key):
    return isinstance(key, str) and bool(_SENSITIVE_NAME.search(key))
