"""The admin console at /admin/console: one page over the /admin JSON API.

The page holds no power of its own: it signs in through POST /login, keeps the access
token in the tab's sessionStorage, and every action is an /admin request the server checks
against the stored role and audits. Its scripts and styles are files under static/admin,
so the page's CSP allows no inline script and no other host.
"""

from flask import Blueprint, make_response, render_template

# The console's own scripts, styles and API calls only.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)

blp = Blueprint(
    "admin_console", __name__, template_folder="templates", static_folder="static/admin",
    static_url_path="/admin/console/assets",
)


@blp.route("/admin/console", methods=["GET"])
def console():
    """The admin console page."""
    response = make_response(render_template("admin/console.html"))
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
