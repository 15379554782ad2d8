"""Structured JSON logs, each line of a request carrying its request id."""

import logging
import os
import re
import sys
import time

import structlog
from flask import g, request

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def configure_logging(level, json_output=True):
    """Route structlog and stdlib logging to one JSON stream on stdout."""
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Drops disabled levels before any processor runs: debug/info cost nothing in production.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Werkzeug's access lines duplicate ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


class RequestLogging:
    """The request-id and access-log hooks of one app (`pipeline` registers them).

    Each app gets its own logger: structlog caches a logger on first use, and each app's
    `configure_logging` may choose another level.
    """

    def __init__(self):
        self._log = structlog.get_logger("request")

    def bind_request_id(self):
        """before_request: give the request an id (accepted from X-Request-ID or made here)."""
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        # A new id: 128 random bits, as uuid4's but without building a UUID object.
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        g.request_started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    def log_request(self, response):
        """after_request: echo the id and log the request once, with its final status."""
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            log = self._log
            if log.is_enabled_for(logging.INFO):
                log.info(
                    "request",
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    duration_ms=round((time.perf_counter() - g.request_started) * 1000, 2),
                )
        return response

    def unbind_request_id(self, exc):
        """teardown_request: no log line outside the request carries its id."""
        structlog.contextvars.clear_contextvars()
