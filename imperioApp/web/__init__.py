"""The browser front: pages and their static files (no build step, nothing from other hosts)."""


def register_web(app):
    """Register the browser blueprints on the app."""
    from .admin import blp as admin_console

    app.register_blueprint(admin_console)
