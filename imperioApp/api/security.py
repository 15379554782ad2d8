"""Who is calling: the JWT identity, as a user id."""

from flask_jwt_extended import get_jwt_identity


def current_user_id():
    """The authenticated user's id (the view must be @jwt_required)."""
    return int(get_jwt_identity())
