"""Flask-JWT-Extended: each token verified once per process; its header parsed once per form."""

import time
from collections import OrderedDict

from flask import current_app
from flask_jwt_extended import JWTManager, view_decorators


class VerifiedTokenCache(JWTManager):
    """A JWTManager that verifies each token once per process and remembers the claims.

    Verification (three base64/JSON decodes and an HMAC) was the largest single cost of an
    authenticated request. A remembered token is still refused once expired (it is then
    decoded again, which raises), and its session is checked as the blocklist callback says.
    Entries are keyed by the token and the verifying key, so a key change invalidates them.
    `check_claims(claims)` (the service's rule of what a token of ours holds) sees every
    freshly verified token and may raise. Flask-JWT-Extended has no public hook for this,
    hence the override of its decoder.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, *args, check_claims=lambda claims: claims, clock=time.time, **kwargs):
        super().__init__(*args, **kwargs)
        self._verified = OrderedDict()
        self._check_claims = check_claims
        self.clock = clock  # the epoch seconds a remembered token's expiry is checked against

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        if csrf_value is not None or allow_expired:
            return self._check_claims(super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))
        key = (encoded_token, current_app.config["JWT_SECRET_KEY"])
        claims = self._verified.get(key)
        if claims is not None and claims.get("exp", 0) > self.clock():
            return claims
        claims = self._check_claims(super()._decode_jwt_from_config(encoded_token))
        self._verified[key] = claims
        if len(self._verified) > self.MAX_ENTRIES:
            self._verified.popitem(last=False)
        return claims


# Flask-JWT-Extended reads a request token's header again after verifying it, through this
# module global; PyJWT then decodes and checks every segment of the token (about a tenth of
# an authenticated request's CPU). The header segment is covered by the signature just
# verified, and this server issues one header, so its parse is kept per header segment.
HEADER_PARSER = "get_unverified_jwt_headers"
_HEADERS_KEPT = 16
_parse_header = getattr(view_decorators, HEADER_PARSER)
_headers = {}


def verified_token_header(encoded_token):
    """The header of a token `decode_token` has just verified (parsed once per header segment)."""
    segment = encoded_token.partition(".")[0]
    header = _headers.get(segment)
    if header is None:
        header = _parse_header(encoded_token)
        if len(_headers) < _HEADERS_KEPT:
            _headers[segment] = header
    return dict(header)


def keep_token_headers():
    """Make Flask-JWT-Extended's views read a verified token's header through the cache (process-wide; idempotent)."""
    setattr(view_decorators, HEADER_PARSER, verified_token_header)
