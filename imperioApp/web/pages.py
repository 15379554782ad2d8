"""Browser pages: sign up, log in, log out, the dashboard, and launching the old game frontends.

The browser session lives in Flask's signed, HttpOnly, SameSite=Lax cookie; every form post
carries a CSRF token (Flask-WTF). POST /signup, /login and /logout are also the JSON API's
paths: a form-encoded post to one of them is the page's, anything else stays the API's.
"""

import math
import time
from functools import wraps
from urllib.parse import urlencode, urlsplit

import marshmallow as ma
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse as parse_limit

from ..extensions import client_address, user_agent
from ..http_security import FORM_TYPES
from ..schemas import LoginSchema, SignupSchema
from ..services.core.errors import AccountLocked, Conflict, NotFound, Unauthorized
from ..services.identity import accounts, browser_sessions, login, throttle
from ..services.identity.browser_sessions import BrowserSession
from ..services.money import wallet

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static/pages", static_url_path="/static/pages")
csrf = CSRFProtect()

PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action {}; frame-ancestors 'none'; base-uri 'none'"
# /redirect-<name> → (button label, config key of that frontend's URL)
GAMES = {
    "imperio": ("Cherry Charm", "CHERRY_CHARM_URL"),
    "blackjack": ("Blackjack", "BLACK_JACK_URL"),
    "roulette": ("Roulette", "ROULETTE_URL"),
}
SESSION_KEY = "browser_session"
GAME_TOKEN_KEY = "game_token"  # nosec B105  # the session key it is stored under, not a token
# A launch reuses the session's game token while it has this long to live: Cherry Charm
# spins with the token it found in storage when its page loaded, i.e. the previous launch's.
GAME_TOKEN_REUSE_SECONDS = 30 * 60


def init_app(app):
    """Register the pages (`pipeline` installs CSRF protection and the form-post dispatch)."""
    app.register_blueprint(bp)
    app.extensions["imperio.form_posts"] = frozenset(FORM_POSTS)


# --- browser session -------------------------------------------------------------------


def current_session():
    """This request's live browser session, or None (an ended or expired one is forgotten)."""
    if "browser_session" not in g:
        found = BrowserSession.from_dict(session.get(SESSION_KEY) or {})
        if found is not None and not browser_sessions.is_live(found):
            session.pop(SESSION_KEY, None)
            found = None
        g.browser_session = found
    return g.browser_session


def _begin_session(user):
    # A new cookie (and CSRF token) at every login: nothing carries over from before it.
    session.clear()
    session[SESSION_KEY] = browser_sessions.start(user.id, user_agent=user_agent(), client_address=client_address()).as_dict()


def login_required(view):
    """Send a visitor without a live browser session to the login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_session() is None:
            return _redirect(url_for("pages.login_page", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def _safe_next(value):
    """Only our own pages are followed after login: never another site."""
    allowed = {url_for("pages.dashboard")} | {url_for("pages.launch", game=game) for game in GAMES}
    return value if value in allowed else url_for("pages.dashboard")


# --- responses -------------------------------------------------------------------------


def _page(template, status=200, headers=None, **context):
    g.web_page = True
    context.setdefault("signed_in", current_session() is not None)
    return render_template(f"pages/{template}", **context), status, headers or {}


def _redirect(location):
    g.web_page = True
    return redirect(location, code=303 if request.method == "POST" else 302)


def page_headers(response):
    """after_request: pages get their own CSP (own stylesheet, own forms) and are never cached."""
    if g.get("web_page"):
        response.headers["Content-Security-Policy"] = PAGE_CSP.format(" ".join(["'self'", *_game_origins()]))
        # Same-origin referrers let the CSRF check see where an HTTPS form came from.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
    return response


def _game_origins():
    # Browsers hold a form post's redirects to form-action too: login?next=/redirect-… ends at a game.
    origins = (urlsplit(current_app.config[key]) for _, key in GAMES.values())
    return sorted({f"{url.scheme}://{url.netloc}" for url in origins if url.scheme and url.netloc})


def _rate_limited(name, limit_setting):
    """Seconds to wait if this address is over the page's limit (the API's own setting), else 0."""
    limit = parse_limit(current_app.config[limit_setting])
    allowed, retry_after = throttle.hit(f"pages:{name}:{client_address()}", limit.amount, limit.get_expiry())
    return 0 if allowed else max(1, math.ceil(retry_after))


def _too_many(template, retry_after, **context):
    minutes = math.ceil(retry_after / 60)
    wait = f"{retry_after} seconds" if retry_after < 120 else f"{minutes} minutes"
    error = f"Too many attempts from your address. Try again in {wait}."
    return _page(template, 429, {"Retry-After": str(retry_after)}, error=error, **context)


def _csrf_refused(template, **context):
    try:
        csrf.protect()
    except CSRFError:
        error = "This form has expired or did not come from this site. Reload the page and try again."
        # 403, not Flask-WTF's 400: the form is well formed, the browser is just not entitled to post it.
        return _page(template, 403, error=error, **context)
    return None


# --- pages -----------------------------------------------------------------------------


@bp.route("/signup", methods=["GET"])
def signup_page():
    """The sign-up form."""
    if current_session() is not None:
        return _redirect(url_for("pages.dashboard"))
    return _page("signup.html", form={})


def signup_submit():
    """Create the account from the form, log the new player in and show the dashboard."""
    form = {name: request.form.get(name, "") for name in ("username", "email", "password")}
    shown = {"username": form["username"], "email": form["email"]}
    refused = _csrf_refused("signup.html", form=shown)
    if refused:
        return refused
    retry_after = _rate_limited("signup", "RATELIMIT_SIGNUP")
    if retry_after:
        return _too_many("signup.html", retry_after, form=shown)
    try:
        data = SignupSchema().load(form)
    except ma.ValidationError as exc:
        return _page(
            "signup.html", 422, error="Please correct the highlighted fields.", field_errors=_field_errors(exc), form=shown
        )
    try:
        user = accounts.signup(data["username"], data["email"], data["password"])
    except Conflict as exc:
        return _page("signup.html", 409, error=exc.message[0].upper() + exc.message[1:] + ".", form=shown)
    _begin_session(user)
    flash(f"Welcome, {user.username}! Your account holds {user.balance:,} coins.")
    return _redirect(url_for("pages.dashboard"))


@bp.route("/login", methods=["GET"])
def login_page():
    """The login form (username or email)."""
    next_page = _safe_next(request.args.get("next"))
    if current_session() is not None:
        return _redirect(next_page)
    return _page("login.html", login="", next_page=next_page)


def login_submit():
    """Check the credentials as the API does (limits, lockout) and open a browser session."""
    identifier = request.form.get("login", "").strip()
    next_page = _safe_next(request.form.get("next"))
    context = {"login": identifier, "next_page": next_page}
    refused = _csrf_refused("login.html", **context)
    if refused:
        return refused
    retry_after = _rate_limited("login", "RATELIMIT_LOGIN")
    if retry_after:
        return _too_many("login.html", retry_after, **context)
    password = request.form.get("password", "")
    if LoginSchema().validate({"username": identifier, "password": password}):
        return _page("login.html", 422, error="Enter your username or email and your password.", **context)
    try:
        user = login.authenticate(identifier, password, client_address=client_address())
    except AccountLocked as exc:
        minutes = math.ceil(exc.retry_after / 60)
        return _page(
            "login.html",
            429,
            {"Retry-After": str(exc.retry_after)},
            error=f"Too many failed logins: this account is locked. Try again in {minutes} minutes.",
            **context,
        )
    except Unauthorized:
        return _page("login.html", 401, error="Wrong username, email or password.", **context)
    _begin_session(user)
    return _redirect(next_page)


@bp.route("/logout", methods=["GET"])
def logout_page():
    """Ask before logging out (logging out is a form post, so another site cannot do it)."""
    if current_session() is None:
        return _redirect(url_for("pages.login_page"))
    return _page("logout.html")


def logout_submit():
    """End the browser session and every game token launched from it."""
    refused = _csrf_refused("logout.html")
    if refused:
        return refused
    browser_session = current_session()
    if browser_session is not None:
        browser_sessions.end(browser_session)
    session.clear()
    flash("You have logged out. Your game links have stopped working.")
    return _redirect(url_for("pages.login_page"))


@bp.route("/dashboard", methods=["GET"])
@login_required
def dashboard():
    """The player's balance and a button per game."""
    user_id = current_session().user_id
    try:
        user = accounts.get_user(user_id)
    except NotFound:
        session.clear()
        return _redirect(url_for("pages.login_page"))
    games = [(url_for("pages.launch", game=game), label) for game, (label, _) in GAMES.items()]
    return _page("dashboard.html", user=user, balance=wallet.balance_of(user_id), games=games)


@bp.route("/redirect-<any(imperio, blackjack, roulette):game>", methods=["GET"])
@login_required
def launch(game):
    """Send the player to a game frontend with a game token in the URL, as it expects."""
    browser_session = current_session()
    user = accounts.get_user(browser_session.user_id)
    base = current_app.config[GAMES[game][1]].rstrip("/")
    return _redirect(f"{base}/?{urlencode({'username': user.username, 'token': _game_token(user, browser_session)})}")


def _game_token(user, browser_session):
    """This browser session's game token: the one launched before while it lasts, else a new one."""
    stored = session.get(GAME_TOKEN_KEY) or {}
    if stored.get("session") == browser_session.id and stored.get("expires_at", 0) > time.time() + GAME_TOKEN_REUSE_SECONDS:
        return stored["token"]
    token = browser_sessions.issue_game_token(user, browser_session)
    session[GAME_TOKEN_KEY] = {"session": browser_session.id, "token": token.value, "expires_at": token.expires_at}
    return token.value


def _field_errors(exc):
    return {
        field: " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        for field, messages in exc.messages.items()
    }


# --- form posts to the API's paths -----------------------------------------------------

FORM_POSTS = {"/signup": signup_submit, "/login": login_submit, "/logout": logout_submit}


def dispatch_form_posts():
    """before_request: hand a form-encoded POST /signup, /login or /logout to its page; JSON stays the API's."""
    if request.method == "POST" and request.mimetype in FORM_TYPES:
        submit = FORM_POSTS.get(request.path)
        if submit is not None:
            return submit()
    return None
