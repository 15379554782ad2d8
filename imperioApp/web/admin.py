"""The admin console at /admin/console: one page over the /admin JSON API.

The page holds no power of its own: it signs in through POST /login, keeps the access
token in the tab's sessionStorage, and every action is an /admin request the server checks
against the stored role and audits. Its scripts and styles are files under static/admin,
so the page's CSP allows no inline script and no other host.
"""

from flask import Blueprint, make_response, render_template

# The lobby's policy fits: its own scripts, styles and API calls only, no inline script.
from ..http_security import LOBBY_CSP

blp = Blueprint(
    "admin_console",
    __name__,
    template_folder="templates",
    static_folder="static/admin",
    static_url_path="/admin/console/assets",
)


@blp.route("/admin/console", methods=["GET"])
def console():
    """The admin console page."""
    response = make_response(render_template("admin/console.html"))
    response.headers["Content-Security-Policy"] = LOBBY_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
