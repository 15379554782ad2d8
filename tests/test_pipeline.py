"""The request pipeline: every hook around a request, registered in one place, in a pinned order.

A change here is a change to what runs around every request: make it in
`imperioApp/pipeline.py`, with its reason, and update the order below with it.
"""

from pathlib import Path

import imperioApp
from imperioApp import pipeline

BEFORE = [
    "RequestLogging.bind_request_id",
    "RouteLimiter._check_request_limit",
    "refuse_hostile_input",
    "require_json_bodies",
    "CSRFProtect.csrf_protect",
    "dispatch_form_posts",
]
# As registered; Flask runs them last first.
AFTER = [
    "RequestLogging.log_request",
    "Limiter.__inject_headers",
    "count_request",
    "attach_reality_check",
    "security_headers.add_headers",
    "page_headers",
]
TEARDOWN = ["RequestLogging.unbind_request_id", "Limiter.__release_context"]


def hook_name(hook):
    """A short, stable name for a registered hook (wrappers named after what they wrap)."""
    hook = getattr(hook, "__wrapped__", hook)
    function = getattr(hook, "func", hook)  # functools.partial
    function = getattr(function, "__func__", function)  # bound method
    name = function.__qualname__.replace(".<locals>", "")
    if name.startswith("Limiter._Limiter__"):
        return "Limiter.__" + name.removeprefix("Limiter._Limiter__")
    if name == "CSRFProtect.init_app.csrf_protect":
        return "CSRFProtect.csrf_protect"
    return name


def registered(app):
    return (
        [hook_name(hook) for hook in app.before_request_funcs.get(None, [])],
        [hook_name(hook) for hook in app.after_request_funcs.get(None, [])],
        [hook_name(hook) for hook in app.teardown_request_funcs.get(None, [])],
    )


def test_the_hooks_around_every_request_are_registered_in_the_pipelines_order(app):
    assert registered(app) == (BEFORE, AFTER, TEARDOWN)


def test_cors_adds_its_after_hook_inside_the_rate_limits_only_when_an_origin_is_allowed(make_app):
    before, after, teardown = registered(make_app(CORS_ORIGINS=["https://games.example"]))
    assert (before, teardown) == (BEFORE, TEARDOWN)
    assert after == [*AFTER[:2], "make_after_request_function.cors_after_request", *AFTER[2:]]


def test_no_blueprint_and_no_app_context_teardown_of_the_app_hides_a_request_hook(app):
    hidden = {
        name: hooks
        for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
        for name, hooks in registry.items()
        if name is not None and hooks
    }
    assert hidden == {}
    # The one app-context teardown: Flask-SQLAlchemy removing the request's session.
    assert [hook_name(hook) for hook in app.teardown_appcontext_funcs] == ["SQLAlchemy._teardown_session"]


def test_every_hook_registration_of_the_app_is_in_the_pipeline_module():
    root = Path(imperioApp.__file__).parent
    registering = (
        ".before_request(",
        ".after_request(",
        ".teardown_request(",
        "before_app_request",
        "after_app_request",
        "teardown_app_request",
    )
    outside = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "pipeline.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(call in line for call in registering) and not line.lstrip().startswith("#")
    ]
    assert outside == [], "request hooks registered outside imperioApp/pipeline.py"
    assert pipeline.register_request_pipeline.__doc__
