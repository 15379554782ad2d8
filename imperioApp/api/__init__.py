"""REST blueprints, one per area, and the OpenAPI description they produce."""

from flask_smorest import Api

from ..schemas import ErrorSchema
from . import (
    achievements,
    admin,
    auth,
    back_office,
    browser_session,
    compat,
    fairness,
    games,
    health,
    leaderboards,
    notifications,
    profile,
    protection,
    sessions,
    statistics,
    tables,
    tournaments,
    transactions,
    wallet,
)
from .errors import handle_http_exception
from .openapi_rules import document_input_rules

BLUEPRINTS = (
    health.blp,
    auth.blp,
    browser_session.blp,
    sessions.blp,
    wallet.blp,
    profile.blp,
    games.blp,
    compat.blp,
    fairness.blp,
    transactions.blp,
    statistics.blp,
    achievements.blp,
    leaderboards.blp,
    notifications.blp,
    protection.blp,
    tables.blp,
    tournaments.blp,
    admin.blp,
    back_office.blp,
    tournaments.admin_blp,
)


class JsonApi(Api):
    """flask-smorest's Api with the project's error shape documented and rendered."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def register_api(app):
    """Create the app's Api and register every blueprint with it.

    One Api per app: flask-smorest keeps the OpenAPI document on the Api object, so a
    module-level instance would be shared (and overwritten) by every app built in a process.
    """
    api = JsonApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    document_input_rules(api, app.config)
    return api
