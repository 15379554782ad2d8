"""Refuse hostile input before any parser or database sees it.

Every JSON body is checked once, before webargs parses it: valid UTF-8, nesting at most
MAX_JSON_DEPTH deep (counted by a flat scan, so a 10,000-level body never reaches the
recursive parser), integers of at most MAX_INTEGER_DIGITS digits (Python refuses more than
4,300 with an error of its own), no float beyond 64 bits (1e400), no NaN/Infinity, and no NUL character or unpaired
surrogate (\\ud800 escapes, which cannot be stored as UTF-8) in any string.
The path and query string may not hold NUL either: PostgreSQL refuses NUL in text.
Header fields longer than MAX_HEADER_BYTES are a JSON 431 (Gunicorn is configured to let
them through to here), and a chunked body reaching MAX_CONTENT_LENGTH a JSON 413 (Werkzeug
would otherwise hand over the first 64 KiB of it as if it were the whole body).
"""

import json
import math
import re

from flask import current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestHeaderFieldsTooLarge, RequestURITooLarge

MAX_HEADER_BYTES = 8190
# Gunicorn lets request lines up to 8190 bytes through (its own 414 is HTML); past this, JSON 414.
MAX_URL_BYTES = 4094
MAX_JSON_DEPTH = 32
MAX_INTEGER_DIGITS = 64
# A JSON string token, or one bracket: enough to count nesting without parsing.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class InvalidJson(BadRequest):
    name = "Invalid JSON"


class JsonTooDeep(BadRequest):
    name = "JSON Too Deep"


class NumberTooLarge(BadRequest):
    name = "Number Too Large"


class InvalidCharacters(BadRequest):
    name = "Invalid Characters"


def _depth(text):
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
        elif piece in "]}":
            depth -= 1
    return deepest


def _integer(digits):
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise NumberTooLarge(f"integers have at most {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _finite(text):
    number = float(text)
    if math.isinf(number):
        raise NumberTooLarge("numbers must fit a 64-bit float")
    return number


def _no_constants(name):
    raise InvalidJson(f"{name} is not JSON")


# NUL (PostgreSQL refuses it in text) and lone surrogates (\ud800 escapes: not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text(value):
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_UNSTORABLE.search(key) or _unstorable_text(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_unstorable_text(item) for item in value)
    return False


# Built once: json.loads with hooks builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_finite, parse_constant=_no_constants)


def check_json_body(raw):
    """Refuse a body that is not safe JSON (see the module docstring); return it parsed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("the body is not UTF-8") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"JSON may nest at most {MAX_JSON_DEPTH} levels")
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _DECODER.decode(text)
    except ValueError as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None
    if _unstorable_text(data):
        raise InvalidCharacters("text may not contain NUL characters or unpaired surrogates")
    return data


# The WSGI environ key of the body this guard parsed: the arguments parser reads it from there.
PARSED_JSON = "imperio.parsed_json"


def parsed_json_body(req):
    """The request's JSON body as this guard parsed it, or None if it did not parse one."""
    return req.environ.get(PARSED_JSON)


# The WSGI keys of a request's header fields (werkzeug's EnvironHeaders yields the same).
_HEADER_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")


def refuse_hostile_input():
    """before_request: the checks of the module docstring."""
    # Every request pays for this guard: read the request and its environ once each.
    req = request._get_current_object()
    environ = req.environ
    if len(environ.get("RAW_URI") or req.full_path) > MAX_URL_BYTES:
        raise RequestURITooLarge(f"URLs are limited to {MAX_URL_BYTES} bytes")
    if any(len(value) > MAX_HEADER_BYTES for key, value in environ.items() if key.startswith("HTTP_") or key in _HEADER_KEYS):
        raise RequestHeaderFieldsTooLarge(f"header fields are limited to {MAX_HEADER_BYTES} bytes")
    if "\x00" in req.path or (
        environ.get("QUERY_STRING") and any("\x00" in key or "\x00" in value for key, value in req.args.items(multi=True))
    ):
        raise InvalidCharacters("the URL may not contain NUL characters")
    if req.is_json and req.method in ("POST", "PUT", "PATCH", "DELETE"):
        raw = req.get_data(cache=True)
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        if req.content_length is None and limit and len(raw) >= limit:
            raise RequestEntityTooLarge(f"request bodies are limited to {limit} bytes")
        if raw:
            environ[PARSED_JSON] = check_json_body(raw)
