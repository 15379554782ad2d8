"""The lobby at `/`: one static page that plays, watches and verifies through the JSON API.

The page is plain HTML, CSS and JavaScript (no build step). Every script is a file under
`static/`, so the page's CSP forbids inline script; the Socket.IO client is a pinned copy
in `static/vendor/`. The page decides nothing: outcomes and balances are the server's.
"""

from flask import Blueprint, current_app, make_response, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from ..http_security import LOBBY_CSP

blp = Blueprint("lobby", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

# Swagger UI's files for /docs, from the pinned swagger-ui-bundle package (no CDN).
docs_assets = Blueprint("docs_assets", __name__)


@blp.route("/", methods=["GET"])
def lobby():
    """The lobby page."""
    response = make_response(render_template("lobby/index.html", big_win_threshold=current_app.config["BIG_WIN_THRESHOLD"]))
    response.headers["Content-Security-Policy"] = LOBBY_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@docs_assets.route("/docs/assets/<path:filename>", methods=["GET"])
def swagger_ui_file(filename):
    """One file of the Swagger UI bundle."""
    return send_from_directory(swagger_ui_path, filename, max_age=3600)
