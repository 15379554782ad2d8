"""Flask-Limiter: no limit evaluation, and no limiter context, on routes without a limit."""

from flask import current_app
from flask.globals import request_ctx
from flask_limiter import Limiter

# The name-mangled private hooks `Limiter.init_app` registers after each request.
INJECT_HEADERS = "_Limiter__inject_headers"
RELEASE_CONTEXT = "_Limiter__release_context"


class RouteLimiter(Limiter):
    """A Limiter that costs nothing on routes without a limit of their own.

    Flask-Limiter evaluates every request in a before_request hook (resolving the route's
    limits and the exemptions, about a tenth of a round's CPU) even when the app-wide default
    is off; routes with their own `@limiter.limit` check themselves when called. So the hook
    runs only while RATELIMIT_DEFAULT is set.
    """

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and not current_app.config.get("RATELIMIT_DEFAULT"):
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def init_app(self, app):
        super().init_app(app)
        # Not a speed-up, a fix on the same private state: the storage-down flag outlives
        # init_app upstream; a freshly bound storage is not known dead.
        self._storage_dead = False
        # Its after-request (limit headers, conditional deductions) and teardown hooks have
        # nothing to do in a request that evaluated no limit, which kept no limiter context;
        # building an empty one for them cost 2-3 % of a game request.
        own = (getattr(Limiter, INJECT_HEADERS, None), getattr(Limiter, RELEASE_CONTEXT, None))
        for hooks in (app.after_request_funcs.get(None, []), app.teardown_request_funcs.get(None, [])):
            for position, hook in enumerate(hooks):
                bound_to = getattr(hook, "args", (getattr(hook, "__self__", None),))
                function = getattr(hook, "func", getattr(hook, "__func__", None))
                if bound_to == (self,) and function in own:
                    hooks[position] = _only_after_a_limit_check(hook)


def _only_after_a_limit_check(hook):
    """`hook(value)`, or `value` as it is when this request checked no limit."""

    def run(value):
        if getattr(request_ctx._get_current_object(), "_limiter_request_context", None) is None:
            return value
        return hook(value)

    run.__wrapped__ = hook  # what it runs, for whoever lists the app's hooks
    return run
