"""Who may call an API route: the key a call carries, and one decorator every keyed route
declares with its scope.

A key comes as ``Authorization: Bearer KEY``. ``authenticate`` runs before every ``/api/v1``
route: without the header the call is anonymous (the public routes answer it as before); a
key that is unknown, revoked or malformed is refused with 401 on any route. A keyed route
declares ``@keyed(KeyScope.READ)`` or ``@keyed(KeyScope.WRITE)`` beneath its route decorator:
no key is a 401, a read key on a write route a 403. Rows of an office the key does not hold
are refused by ``require_office`` with a 403. Every 403 is written to the audit trail in its
own short unit, as the console's refusals are.

The scopes live on the view functions, so ``app.view_functions`` is the registry
(``keyed_views``): a test walks it to send every keyed route keys of another office, of the
wrong scope and revoked.

Each key has its own rate limit (``API_KEY_RATE_LIMIT``, ``key_rate`` on every route): a
call with a key counts against its key's budget, not its client's address.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter.util import get_remote_address

from tracker import db
from tracker.api import keys
from tracker.api.keys import Holder
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import KeyForbidden, KeyRefused
from tracker.extensions import API_KEY_HOLDER, RateRule, View, rate_limited
from tracker.models import KeyScope, utcnow

SCOPE_ATTRIBUTE = "api_scope"
CHALLENGE = 'Bearer realm="siapambil"'


def bearer() -> str | None:
    """The key in the Authorization header: None without the header, '' when it is not a
    bearer token."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def current_key() -> Holder | None:
    """The key this call carries, recognised once per call (None for an anonymous call).
    Its ``last_used_at`` moves, in a short unit of its own, when it is over a minute old."""
    if API_KEY_HOLDER in g:
        return g.get(API_KEY_HOLDER)
    token = bearer()
    if token is None:
        g.setdefault(API_KEY_HOLDER, None)
        return None
    now = utcnow()
    reader = current_app.extensions["siapambil.db"]["reader"]()
    try:
        holder = keys.recognise(reader, token, now)
    finally:
        reader.close()
    if holder is None:
        raise KeyRefused(reason="unknown")
    if holder.stale:
        with db.unit_of_work() as session:
            keys.touch(session, holder.id, now)
    setattr(g, API_KEY_HOLDER, holder)
    return holder


def authenticate() -> None:
    """Before every ``/api/v1`` route: recognise the key, if one is given (401 if it is not
    a valid one)."""
    current_key()


def challenge(response: Response) -> Response:
    """A 401 tells which scheme it wants."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def keyed(scope: KeyScope) -> Callable[[View], View]:
    """The route needs a key of this scope (a write key may also read)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            holder = current_key()
            if holder is None:
                raise KeyRefused(reason="missing")
            if not holder.may(scope):
                refuse(holder, reason="scope", needed=scope.value)
            return view(*args, **kwargs)

        setattr(checked, SCOPE_ATTRIBUTE, scope)
        return checked  # type: ignore[return-value]

    return decorate


def scope_of(view: Callable[..., Any]) -> KeyScope | None:
    return getattr(view, SCOPE_ATTRIBUTE, None)


def keyed_views(app: Flask) -> dict[str, KeyScope]:
    """Every endpoint that needs a key, with its scope."""
    found = {}
    for endpoint, view in app.view_functions.items():
        scope = scope_of(view)
        if scope is not None:
            found[endpoint] = scope
    return found


def holder() -> Holder:
    """The key of a keyed route's call."""
    found = g.get(API_KEY_HOLDER)
    assert found is not None, "only a @keyed route has a key"
    return found


def require_office(office_id: int, code: str) -> None:
    """Refuse (403, audited) a row of an office the call's key does not hold."""
    key = holder()
    if office_id not in key.office_ids:
        refuse(key, reason="office", office=code)


def refuse(key: Holder, **details: Any) -> None:
    """Discard what the call did, write only its refusal, and answer 403."""
    actor = Actor(key.actor_name, request.remote_addr or "")
    db.discard()
    audit.record_apart(
        "denied", actor=actor, at=utcnow(), target=request.path[:120],
        attempted=request.endpoint or "", **details,
    )  # fmt: skip
    raise KeyForbidden(**details)


def _key_limit() -> str:
    return current_app.config["API_KEY_RATE_LIMIT"]


def _key_tag() -> str:
    key = g.get(API_KEY_HOLDER)
    return f"apikey:{key.id}" if key is not None else get_remote_address()


def _anonymous() -> bool:
    return g.get(API_KEY_HOLDER) is None


# One budget per key across every /api/v1 route; anonymous calls are not counted here.
KEY_RATE = RateRule(_key_limit, "api-key", shared=True, key_func=_key_tag, exempt_when=_anonymous)


def key_rate(view: View) -> View:
    return rate_limited(KEY_RATE)(view)
