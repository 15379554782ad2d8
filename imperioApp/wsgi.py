"""WSGI entry point for Gunicorn: `gunicorn -c deployment/gunicorn_config.py imperioApp.wsgi:app`."""

import os

from gevent import monkey

if monkey.is_module_patched("socket"):
    # Gunicorn's gevent worker patched the stdlib; make psycopg2 yield to other greenlets too.
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()

from . import create_app  # noqa: E402
from .collector import freeze_loaded_objects  # noqa: E402

app = create_app(os.environ.get("APP_ENV", "production"))
freeze_loaded_objects(app.config["GC_THRESHOLD"])
