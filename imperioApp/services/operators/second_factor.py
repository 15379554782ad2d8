"""Operators' second factor: TOTP (RFC 6238) enrolment and sign-in, and single-use recovery codes.

An operator signs in with the password (POST /login), then proves the second factor here in
the same session; from then on the session's tokens carry the `mfa` claim, kept across
refresh (`sessions.prove_second_factor`). With OPERATOR_2FA_REQUIRED on (the default; the
production config refuses it off) no admin route answers a token without that claim.

A code is accepted for the current 30-second step or the one before (a clock a little
behind), and only for a step after the last one accepted: a code cannot be used twice, nor
an older one after a newer. The secret is never logged and is shown only while enrolling;
it is stored sealed (`adapters.sealing`, with keys outside the database) and sealed again
with the current key at every code accepted. Recovery codes are shown once and stored as
password hashes.
"""

import io
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, insert, or_, select, update

from ...adapters import sealing
from ...models import OperatorRecoveryCode, OperatorSecondFactor, User
from ...models.base import utcnow
from ..core.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from ..core.unit_of_work import atomic
from ..identity import accounts, passwords, sessions
from . import audit
from .actions import require_player, validate_reason
from .audit import Operator

_factors = OperatorSecondFactor.__table__
_codes = OperatorRecoveryCode.__table__
_users = User.__table__

ISSUER = "ImperioCasino"
RECOVERY_CODES = 10
# A clock this many steps behind is still accepted (RFC 6238 section 5.2).
ACCEPTED_DELAY_STEPS = 1


def required():
    """Whether operators must prove a second factor before any admin route answers."""
    return bool(current_app.config["OPERATOR_2FA_REQUIRED"])


def require_proved(claims):
    """Refuse (403 second_factor_required) a token whose session has not proved the second factor, when required."""
    if required() and not claims.get("mfa"):
        raise Forbidden("sign in with your second factor first", code="second_factor_required")


def _factor(session, user_id):
    return session.execute(select(_factors).where(_factors.c.user_id == user_id)).first()


def status(user_id, claims):
    """What the operator's console needs to know: required, enrolled, and proved in this session."""
    role = accounts.require_role(user_id, "support")
    with atomic() as session:
        factor = _factor(session, user_id)
    return {
        "role": role,
        "required": required(),
        "enrolled": factor is not None and factor.confirmed_at is not None,
        "verified": bool(claims.get("mfa")),
    }


def begin_enrolment(user_id):
    """A new secret for an operator without a confirmed one: the secret, its otpauth URI and a QR code (SVG)."""
    accounts.require_role(user_id, "support")
    secret = pyotp.random_base32()
    with atomic() as session:
        username = session.execute(select(_users.c.username).where(_users.c.id == user_id)).scalar_one()
        factor = _factor(session, user_id)
        if factor is not None and factor.confirmed_at is not None:
            raise Conflict("a second factor is already enrolled; an admin can reset it", code="already_enrolled")
        session.execute(delete(_factors).where(_factors.c.user_id == user_id))
        session.execute(insert(_factors).values(user_id=user_id, secret=sealing.seal(secret), created_at=utcnow()))
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    drawing = io.BytesIO()
    # A whole SVG document (with its namespace), so a page can show it as an image.
    segno.make(uri, error="m").save(drawing, kind="svg", xmldecl=False, scale=4, dark="#111", light="#fff")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": drawing.getvalue().decode()}


def _secret(factor):
    """The factor's secret, unsealed once per request."""
    try:
        return sealing.unseal(factor.secret)
    except sealing.UnreadableSecret:
        raise Conflict(
            "your second factor was sealed with a key this server no longer has; an admin must reset it",
            code="second_factor_unreadable",
        ) from None


def _check_code(secret, last_step, code, now):
    """The time step `code` is valid for, or Unauthorized (wrong, stale or already used)."""
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in range(current, current - ACCEPTED_DELAY_STEPS - 1, -1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                raise Unauthorized("that code was already used; wait for the next one", code="code_reused")
            return step
    raise Unauthorized("wrong or expired code", code="invalid_code")


def _accept_code(session, factor, code, now, *, confirm=False):
    """Check `code` and record its step as used, unless another request used it (or a later one) first.

    The secret is sealed again with the current first key (a key rolled in reaches every secret in use).
    """
    if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
        raise ValidationFailed("the code is the 6 digits your authenticator shows", code="invalid_code")
    secret = _secret(factor)
    step = _check_code(secret, factor.last_step, code, now)
    values = {"last_step": step, "secret": sealing.seal(secret)}
    if confirm:
        values["confirmed_at"] = utcnow()
    claimed = session.execute(
        update(_factors)
        .where(_factors.c.user_id == factor.user_id, or_(_factors.c.last_step.is_(None), _factors.c.last_step < step))
        .values(**values)
    ).rowcount
    if claimed != 1:
        raise Unauthorized("that code was already used; wait for the next one", code="code_reused")


def confirm_enrolment(user_id, session_id, code, *, request_id=None, now=None):
    """Confirm the pending secret with a first code: recovery codes (shown once) and tokens with the claim."""
    accounts.require_role(user_id, "support")
    now = time.time() if now is None else now
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    with atomic() as session:
        factor = _factor(session, user_id)
        if factor is None:
            raise Conflict("start the enrolment first", code="not_enrolling")
        if factor.confirmed_at is not None:
            raise Conflict("a second factor is already enrolled", code="already_enrolled")
        _accept_code(session, factor, code, now, confirm=True)
        session.execute(delete(_codes).where(_codes.c.user_id == user_id))
        session.execute(insert(_codes), [{"user_id": user_id, "code_hash": passwords.hash_password(c)} for c in codes])
        audit.record(Operator(user_id, request_id), "second_factor_enrol", target_user_id=user_id)
    return {"recovery_codes": codes, **sessions.prove_second_factor(user_id, session_id)}


def verify(user_id, session_id, *, code=None, recovery_code=None, now=None):
    """Prove the enrolled second factor (a TOTP code, or a recovery code used up); tokens with the claim."""
    accounts.require_role(user_id, "support")
    if (code is None) == (recovery_code is None):
        raise ValidationFailed("give either code or recovery_code", code="validation_error")
    now = time.time() if now is None else now
    with atomic() as session:
        factor = _factor(session, user_id)
        if factor is None or factor.confirmed_at is None:
            raise Conflict("no second factor is enrolled yet", code="not_enrolled")
        if code is not None:
            _accept_code(session, factor, code, now)
        else:
            _use_recovery_code(session, user_id, recovery_code)
    return sessions.prove_second_factor(user_id, session_id)


def _use_recovery_code(session, user_id, recovery_code):
    rows = session.execute(
        select(_codes.c.id, _codes.c.code_hash).where(_codes.c.user_id == user_id, _codes.c.used_at.is_(None))
    ).all()
    normalised = recovery_code.strip().lower().replace("-", "")
    for row in rows:
        if passwords.verify_password(row.code_hash, normalised):
            used = session.execute(
                update(_codes).where(_codes.c.id == row.id, _codes.c.used_at.is_(None)).values(used_at=utcnow())
            ).rowcount
            if used == 1:
                return
    raise Unauthorized("wrong or used recovery code", code="invalid_code")


def reset(operator, user_id, reason):
    """An admin clears another operator's second factor (a lost device): they enrol again at next sign-in."""
    accounts.require_role(operator.admin_id, "admin")
    if user_id == operator.admin_id:
        raise ValidationFailed("another admin must reset your second factor", code="invalid_target")
    reason = validate_reason(reason)
    with atomic() as session:
        require_player(operator, user_id)
        removed = session.execute(delete(_factors).where(_factors.c.user_id == user_id)).rowcount
        session.execute(delete(_codes).where(_codes.c.user_id == user_id))
        if not removed:
            raise Conflict("that operator has no second factor", code="not_enrolled")
        audit_id = audit.record(operator, "second_factor_reset", target_user_id=user_id, reason=reason)
    return {"user_id": user_id, "audit_id": audit_id}
