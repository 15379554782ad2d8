"""Flask: each callable judged once for being a coroutine; no cookie parse without a cookie."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface


class ImperioFlask(Flask):
    """Flask, checking each view and hook once for being a coroutine rather than per call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_callables = set()

    def ensure_sync(self, func):
        """Flask's `ensure_sync`; a callable found synchronous is remembered as such."""
        # Flask asks for every hook and view of every request (inspect's check, ~15 a request).
        try:
            if func in self._sync_callables:
                return func
        except TypeError:  # an unhashable callable is checked every time
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self._sync_callables) < 4096:
            self._sync_callables.add(func)
        return wrapped


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie starts an empty one at once.

    Flask builds the cookie's signing serializer before it looks for the cookie, on every
    request; the API's requests carry a bearer token and no cookie, so they skip that build.
    """

    def open_session(self, app, request):
        """An empty session when the request has no session cookie, else Flask's."""
        # No Cookie header at all (API clients): skip parsing one.
        if app.secret_key and ("HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)
