"""The page has a plain-language message for every error code the server can answer with."""

import re
from pathlib import Path

from werkzeug.exceptions import default_exceptions

from imperioApp.api.errors import _CODE_OVERRIDES

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "imperioApp" / "web" / "static" / "lobby" / "messages.js"

# A code given as code="...", code = "...", a `"code": (ErrorClass` table entry, or a
# send_error("code", ...) / unauthorized("code", ...) call.
CODE_PATTERNS = (
    r'\bcode\s*=\s*"([a-z_]+)"',
    r'"([a-z_]+)":\s*\((?:NotFound|Conflict|Forbidden)',
    r'(?:send_error|unauthorized|error_response\(\d+,)\s*\(?\s*"([a-z_]+)"',
)


HTTP_STATUSES = {400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504}


def server_codes():
    codes = set()
    for path in (ROOT / "imperioApp").rglob("*.py"):
        text = path.read_text()
        for pattern in CODE_PATTERNS:
            codes.update(re.findall(pattern, text))
    # The HTTP errors Flask and NGINX can answer a page's request with, named as the error
    # handler names them.
    for status, exception in default_exceptions.items():
        if status in HTTP_STATUSES:
            codes.add(_CODE_OVERRIDES.get(status) or re.sub(r"\W+", "_", exception().name.lower()).strip("_"))
    return codes


def page_codes():
    return set(re.findall(r"^\s+([a-z_]+):\s*\"", MESSAGES.read_text(), re.M))


def test_every_error_code_has_a_message_on_the_page():
    codes = server_codes()
    assert {"insufficient_funds", "token_expired", "muted", "room_full", "unknown_event", "payload_too_large"} <= codes
    missing = sorted(codes - page_codes())
    assert not missing, f"add messages to messages.js for: {missing}"
