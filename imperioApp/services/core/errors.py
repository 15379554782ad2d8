"""Domain exceptions; the API maps each to one HTTP status in one place."""


class DomainError(Exception):
    """Base of every expected, user-facing failure."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, code=None, details=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class BalanceCeiling(Conflict):
    code = "balance_ceiling"


class AccountLocked(DomainError):
    status = 429
    code = "account_locked"

    def __init__(self, message, *, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


def require_choice(value, choices, *, what, code, error=DomainError):
    """Raise `error` naming the valid values unless `value` is one of `choices`."""
    if value not in choices:
        raise error(f"unknown {what} {value!r}; valid: {', '.join(choices)}", code=code, details={"valid": list(choices)})
