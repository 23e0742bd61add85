"""The Flask extensions, made once and bound to an app in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Request, current_app, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """A language chosen with the switch (``?lang=``, then its cookie), else Accept-Language,
    else Indonesian."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and jobs: Indonesian unless force_locale says
        return languages[0]
    for chosen in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in languages:
            return chosen
    return request.accept_languages.best_match(languages) or languages[0]


babel = Babel()
limiter = Limiter(key_func=get_remote_address)
login_manager = LoginManager()
csrf = CSRFProtect()


def lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


def lookup_rate(view: Callable[..., Any]) -> Callable[..., Any]:
    """Every look-up by receipt number, well formed or not, counts against one per-client
    budget. Where limits are switched off the view is called straight: a disabled
    Flask-Limiter still evaluates the limits of decorated views on every request."""
    limited = limiter.shared_limit(lookup_limit, scope="lookup")(view)

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if current_app.config["RATELIMIT_ENABLED"]:
            return limited(*args, **kwargs)
        return view(*args, **kwargs)

    return checked


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, but a request without a session cookie (every citizen's
    look-up) gets an empty session without building the signing serializer."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
