"""The settlement path's JSON: orjson's speed, never a document that `json` took and it refuses."""

import json

import pytest

from imperioApp import json_codec


def test_documents_round_trip_as_with_the_standard_library():
    document = {"segments": [3, 17, 29], "fruits": ["cherry", "lemon"], "combination": None, "won": True, "name": "Ünïcode ✓"}
    assert json.loads(json_codec.dumps(document)) == document
    assert json_codec.loads(json.dumps(document)) == document
    assert json_codec.loads(json.dumps(document).encode()) == document


def test_what_orjson_refuses_still_encodes_and_decodes():
    huge = 2**70
    assert json.loads(json_codec.dumps({"n": huge})) == {"n": huge}
    assert json_codec.loads('{"n": %d}' % huge) == {"n": huge}
    assert json_codec.loads("[NaN, 1]")[1] == 1
    assert json.loads(json_codec.response_body({"n": huge})) == {"n": huge}


def test_a_response_body_has_sorted_keys_and_ends_in_a_newline_like_flasks():
    body = json_codec.response_body({"b": 1, "a": [None, "é"]})
    assert body.endswith(b"\n")
    assert list(json.loads(body)) == ["a", "b"]
    assert json.loads(body) == {"a": [None, "é"], "b": 1}


@pytest.mark.postgres
def test_postgresql_json_columns_decode_through_it_with_the_same_values(app):
    from sqlalchemy import text

    from imperioApp.extensions import db

    huge = 2**70
    with app.app_context():
        row = db.session.execute(
            text(f"""SELECT '{{"a": [1, "é", null]}}'::json, '{{"n": {huge}}}'::json, '[true, 2]'::jsonb""")
        ).one()
        db.session.remove()
    assert tuple(row) == ({"a": [1, "é", None]}, {"n": huge}, [True, 2])
