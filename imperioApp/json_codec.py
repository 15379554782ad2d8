"""JSON on the round's path through orjson, with the standard library for what it refuses.

orjson encodes and decodes the same documents several times faster than `json`. It refuses
integers beyond 64 bits and NaN/Infinity in text, which `json` accepts: those documents
(none of the games write one) go through `json`, so nothing that decoded before fails now.
"""

import json

import orjson

_RESPONSE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def dumps(value):
    """`value` as compact JSON text."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"))


def loads(text):
    """The value of a JSON text (str or bytes)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def response_body(value):
    """`value` as a response body: UTF-8 JSON bytes, keys sorted, ending in a newline (as Flask's)."""
    try:
        return orjson.dumps(value, option=_RESPONSE_OPTIONS)
    except orjson.JSONEncodeError:
        return (json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n").encode()
