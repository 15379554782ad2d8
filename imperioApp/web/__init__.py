"""The browser front: the lobby page and the assets of the API docs page."""


def register_web(app):
    """Register the browser blueprints on the app."""
    from .lobby import blp as lobby_blueprint
    from .lobby import docs_assets

    app.register_blueprint(lobby_blueprint)
    app.register_blueprint(docs_assets)
