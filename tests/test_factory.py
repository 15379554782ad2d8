"""The application factory and its configurations."""

import pytest

from config import DEFAULT_JWT_SECRET_KEY, DEFAULT_SECRET_KEY, ProductionConfig, get_config

STRONG = "x" * 48


def test_testing_config_is_applied(make_app):
    app = make_app("testing")
    assert app.testing
    assert app.config["ENV_NAME"] == "testing"


def test_overrides_win_over_config_class(make_app):
    app = make_app("testing", SIGNUP_BONUS=7)
    assert app.config["SIGNUP_BONUS"] == 7


def test_unknown_config_name_is_refused():
    with pytest.raises(ValueError, match="unknown configuration"):
        get_config("staging")


@pytest.mark.parametrize(
    "secrets",
    [
        {"SECRET_KEY": DEFAULT_SECRET_KEY, "JWT_SECRET_KEY": STRONG},
        {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": DEFAULT_JWT_SECRET_KEY},
        {"SECRET_KEY": "", "JWT_SECRET_KEY": STRONG},
        {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": "short"},
    ],
)
def test_production_refuses_default_or_weak_secrets(make_app, secrets):
    with pytest.raises(RuntimeError, match="production refuses to start"):
        make_app(ProductionConfig, **secrets)


def test_production_starts_with_strong_secrets(make_app):
    app = make_app(ProductionConfig, SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG + "y")
    assert not app.testing
    assert app.config["ENV_NAME"] == "production"


def test_views_and_hooks_are_judged_sync_once_and_coroutines_still_by_flask(make_app, monkeypatch):
    import inspect

    import flask.app

    app = make_app()
    checks = []

    def counting(func):
        checks.append(func)
        return inspect.iscoroutinefunction(func)

    monkeypatch.setattr(flask.app, "iscoroutinefunction", counting)

    def hook():
        return None

    async def coroutine_hook():
        return None

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    assert checks == [hook]
    for _ in range(2):
        try:
            wrapped = app.ensure_sync(coroutine_hook)
        except RuntimeError:  # Flask without its async extra refuses coroutines
            continue
        assert wrapped is not coroutine_hook
    assert checks == [hook, coroutine_hook, coroutine_hook]
