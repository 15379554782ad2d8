"""The browser front: server-rendered pages and their static files."""


def register_web(app):
    """Register the browser blueprints."""
    from . import pages

    pages.init_app(app)
