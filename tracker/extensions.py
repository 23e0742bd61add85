"""The Flask extensions bound to an app in ``create_app``; the rate limiter is made there too,
one per app, from the limits the views declare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, has_request_context, request
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
login_manager = LoginManager()
csrf = CSRFProtect()

LIMITER = "siapambil.limiter"
RATE_RULES = "rate_rules"
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class RateRule:
    """A limit a view declares. Views only carry their rules; each app's own limiter applies
    them when the app is made (``apply_rate_limits``), so that no setting, storage or count
    is shared between two apps of one process."""

    limit: Callable[[], str]
    scope: str
    shared: bool = False
    key_func: Callable[[], str] | None = None
    methods: tuple[str, ...] | None = None
    deduct_when: Callable[[Response], bool] | None = None
    exempt_when: Callable[[], bool] | None = None
    cost: Callable[[], int] | None = None  # how many the call counts for (default one)


def rate_limited(rule: RateRule) -> Callable[[View], View]:
    """Declare a limit on a view (put it under the route decorator)."""

    def mark(view: View) -> View:
        setattr(view, RATE_RULES, (*getattr(view, RATE_RULES, ()), rule))
        return view

    return mark


def lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


# Where ``tracker.api.guard`` keeps the API key a call carries (None for an anonymous call).
API_KEY_HOLDER = "api_key"


def keyed_call() -> bool:
    """A call with a valid API key counts against its key's budget instead."""
    return g.get(API_KEY_HOLDER) is not None


LOOKUP = RateRule(lookup_limit, scope="lookup", shared=True, exempt_when=keyed_call)


def lookup_rate(view: View) -> View:
    """Every look-up by receipt number, well formed or not, counts against one per-client
    budget."""
    return rate_limited(LOOKUP)(view)


def lookups_rate(count: Callable[[], int]) -> Callable[[View], View]:
    """A call that looks up several receipt numbers at once counts each of them (``count``)
    against the same per-client budget as ``lookup_rate``."""
    return rate_limited(RateRule(lookup_limit, "lookup", True, exempt_when=keyed_call, cost=count))


def init_limiter(app: Flask) -> Limiter:
    """This app's own limiter, with its storage and settings read from this app's config."""
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter
    return limiter


def apply_rate_limits(app: Flask) -> None:
    """Wrap every view that declares rate rules with this app's limiter; call it after the
    blueprints are registered. Where limits are switched off nothing is wrapped: a disabled
    Flask-Limiter still evaluates the limits of decorated views on every request."""
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter: Limiter = app.extensions[LIMITER]
    for endpoint, view in list(app.view_functions.items()):
        limited = view
        for rule in getattr(view, RATE_RULES, ()):
            limited = _limit(limiter, rule)(limited)
        app.view_functions[endpoint] = limited


def _limit(limiter: Limiter, rule: RateRule) -> Callable[[View], View]:
    options: dict[str, Any] = {
        "key_func": rule.key_func,
        "methods": list(rule.methods) if rule.methods else None,
        "deduct_when": rule.deduct_when,
        "exempt_when": rule.exempt_when,
        "cost": rule.cost or 1,
    }
    if rule.shared:
        return limiter.shared_limit(rule.limit, scope=rule.scope, **options)
    return limiter.limit(rule.limit, scope=rule.scope, **options)


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, but a request without a session cookie (every citizen's
    look-up) gets an empty session without building the signing serializer."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
