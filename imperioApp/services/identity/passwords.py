"""Password hashing with Argon2id (memory-hard)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_EXTENSION = "imperio.password_hasher"


def init_app(app):
    """Build the app's hasher from its ARGON2_* settings."""
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    app.extensions[_EXTENSION] = {"hasher": hasher, "dummy": hasher.hash("not-a-real-password")}


def hash_password(password):
    """Hash a password for storage."""
    return current_app.extensions[_EXTENSION]["hasher"].hash(password)


def verify_password(password_hash, password):
    """True if `password` matches; pass None to spend the same time on an unknown user."""
    ext = current_app.extensions[_EXTENSION]
    try:
        return ext["hasher"].verify(password_hash or ext["dummy"], password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """True when the stored hash was made with weaker settings than the current ones."""
    return current_app.extensions[_EXTENSION]["hasher"].check_needs_rehash(password_hash)
