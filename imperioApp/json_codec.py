"""JSON on the round's path through orjson, with the standard library for what it refuses.

orjson encodes and decodes the same documents several times faster than `json`. It refuses
integers beyond 64 bits and NaN/Infinity in text, which `json` accepts: those documents
(none of the games write one) go through `json`, so nothing that decoded before fails now.
"""

import json

import orjson


def _encoded(value, *, for_response):
    # A response body sorts its keys and ends in a newline, as Flask's encoder does.
    option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE if for_response else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        text = json.dumps(value, sort_keys=for_response, separators=(",", ":"))
        return (text + "\n" if for_response else text).encode()


def dumps(value):
    """`value` as compact JSON text."""
    return _encoded(value, for_response=False).decode()


def loads(text):
    """The value of a JSON text (str or bytes)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def response_body(value):
    """`value` as a response body: UTF-8 JSON bytes, keys sorted, ending in a newline (as Flask's)."""
    return _encoded(value, for_response=True)
