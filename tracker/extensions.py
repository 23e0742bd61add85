"""The Flask extensions, made once and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """A language chosen with the switch (``?lang=``, then its cookie), else Accept-Language,
    else Indonesian."""
    languages = current_app.config["LANGUAGES"]
    for chosen in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in languages:
            return chosen
    return request.accept_languages.best_match(languages) or languages[0]


babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


# Every look-up by receipt number, well formed or not, counts against one per-client budget.
lookup_rate = limiter.shared_limit(lookup_limit, scope="lookup")
