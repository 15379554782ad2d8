"""The browser front: the lobby, server-rendered pages, and the assets of the API docs page."""


def register_web(app):
    """Register the browser blueprints."""
    from . import pages
    from .lobby import blp as lobby_blueprint
    from .lobby import docs_assets

    pages.init_app(app)
    app.register_blueprint(lobby_blueprint)
    app.register_blueprint(docs_assets)
