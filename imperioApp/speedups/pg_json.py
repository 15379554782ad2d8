"""psycopg2: json and jsonb values decoded with orjson (through `json_codec`)."""

from .. import json_codec


def decode_json_columns_with_json_codec():
    """Make psycopg2 decode json and jsonb values with `json_codec.loads` (process-wide; idempotent)."""
    from psycopg2.extras import register_default_json, register_default_jsonb

    register_default_json(globally=True, loads=json_codec.loads)
    register_default_jsonb(globally=True, loads=json_codec.loads)
