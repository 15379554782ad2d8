"""Secrets sealed at rest: Fernet (AES-128-CBC with HMAC-SHA256), with keys kept outside the database.

The keys are SECOND_FACTOR_KEYS (Fernet keys, comma-separated, the first one sealing) and,
last, one derived from SECRET_KEY (HKDF-SHA256), so that a deployment without keys of its own
still never stores a secret in the clear. A database dump alone reveals none of them. Every
key opens; only the first seals, so a new key is rolled in by putting it first: a secret
sealed with an older key still opens, and is sealed again with the new one when next used
(`seal` after `unseal`). A stored value without the `fernet:` prefix is a secret from before
sealing, returned as it is until it is sealed.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "fernet:"
_BOX = "imperio.sealing"


class UnreadableSecret(Exception):
    """A sealed value none of the configured keys opens (a key was removed too early)."""


def derived_key(secret_key):
    """The Fernet key derived from SECRET_KEY (used when no key of its own is configured)."""
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"imperio sealed secrets").derive(secret_key.encode())
    return base64.urlsafe_b64encode(material)


def init_app(app):
    """Build the app's keys now, so that a malformed SECOND_FACTOR_KEYS stops the start, not a sign-in."""
    configured = app.config.get("SECOND_FACTOR_KEYS") or []
    try:
        keys = [Fernet(key) for key in configured]
    except ValueError:
        raise RuntimeError(
            "SECOND_FACTOR_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each; "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from None
    keys.append(Fernet(derived_key(app.config["SECRET_KEY"])))
    app.extensions[_BOX] = MultiFernet(keys)


def seal(secret):
    """The stored form of `secret`, sealed with the first key."""
    return PREFIX + current_app.extensions[_BOX].encrypt(secret.encode()).decode()


def unseal(stored):
    """The secret a stored value holds (one from before sealing as it is)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return current_app.extensions[_BOX].decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("no configured key opens this secret") from None
