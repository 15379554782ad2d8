"""The `imperio` console script: the app's flask commands, with the app already named."""

from flask.cli import FlaskGroup


def main():
    """Run a flask command of this app (`imperio seed`, `imperio db upgrade`) without FLASK_APP."""
    from . import create_app

    FlaskGroup(create_app=create_app)()
