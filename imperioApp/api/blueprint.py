"""The API's blueprint class: flask-smorest's, with the speed-ups of its argument parsing."""

from ..speedups.request_args import PreparsedJsonParser, SchemaOnceBlueprint
from .request_guard import parsed_json_body


class Blueprint(SchemaOnceBlueprint):
    """flask-smorest's Blueprint: one schema instance per argument schema, and webargs reading
    the JSON body the request guard already parsed and checked."""

    ARGUMENTS_PARSER = PreparsedJsonParser(parsed_json_body)
