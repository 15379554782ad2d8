"""`@idempotent`: replay the stored first response for a repeated Idempotency-Key."""

from functools import wraps

from flask import current_app, make_response, request

from ..services.identity.tokens import current_user_id
from ..services.money import idempotency
from .blueprint import Blueprint

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": "Retry-safe key: a repeat returns the first response and moves no money "
    "again; reusing it for a different request answers 409. Kept for 24 hours.",
}


def idempotent(view):
    """Make a money-moving view safe to retry (place under @jwt_required).

    The view receives `idempotency_key` (None without the header) to pass to the service.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, idempotency_key=None, **kwargs)
        req = idempotency.IdempotentRequest(
            user_id=current_user_id(),
            key=idempotency.validate_key(key),
            request_hash=idempotency.fingerprint(request.method, request.path, request.get_data()),
        )

        def produce(claimed_key):
            response = make_response(view(*args, idempotency_key=claimed_key, **kwargs))
            return response.status_code, response.get_data(as_text=True)

        stored, replayed = idempotency.execute(req, produce)
        response = current_app.response_class(stored.body, status=stored.status_code, mimetype="application/json")
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    return Blueprint.doc(parameters=[IDEMPOTENCY_HEADER])(wrapper)
