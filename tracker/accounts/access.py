"""Who may do what in the console: sessions that end, a one-time password replaced first,
roles, and the office a request belongs to. Every refusal is answered with 403 and written
to the audit trail."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import db, receipts
from tracker.accounts import scope
from tracker.accounts.scope import Scope
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.db import get_session
from tracker.errors import RequestNotFound
from tracker.extensions import login_manager
from tracker.models import PickupPoint, Request, Role, StaffAccount, utcnow
from tracker.web.arguments import query
from tracker.web.forms import OfficeQuery

SEEN = "seen"

# The console's blueprint: each feature package adds its console views to it.
bp = Blueprint("staff", __name__, url_prefix="/staff")


@login_manager.user_loader
def load_account(user_id: str) -> StaffAccount | None:
    """The account a session names, if the session is still the account's current one."""
    try:
        account_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    account = get_session().get(StaffAccount, account_id)
    if account is None or not account.active or account.session_version != version:
        return None
    return account


def setup() -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = None  # the login page says why on its own


def acting() -> Actor:
    """Who makes this request: the signed-in account (``-`` before signing in) and the
    client's address, for the audit trail and the history."""
    name = current_user.username if current_user.is_authenticated else "-"
    return Actor(name, request.remote_addr or "")


def end_idle_session() -> Response | None:
    """Before every console request: end a session left idle too long, else note the time."""
    now = int(time.time())
    seen = session.get(SEEN)
    idle = current_app.config["STAFF_IDLE_MINUTES"] * 60
    if current_user.is_authenticated and seen is not None and now - seen > idle:
        refuse_apart("sign_out_idle")
        logout_user()
        session.clear()
        flash(_("You were signed out after a while without activity. Please sign in again."))
        return redirect(url_for("staff.login", next=request.full_path))
    if current_user.is_authenticated:
        session[SEEN] = now
    return None


bp.before_request(end_idle_session)

# Where an account that must choose its password may still go.
BEFORE_A_PASSWORD = {"staff.password_page", "staff.login", "staff.logout"}


def require_own_password() -> Response | None:
    """Before every console request: an account signed in with a one-time password is sent
    to choose its own before anything else."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in BEFORE_A_PASSWORD
    ):
        return redirect(url_for("staff.password_page"))
    return None


bp.before_request(require_own_password)


def refuse_apart(action: str, target: str = "", **details: Any) -> None:
    """Discard what this request did and write only its refusal, in the audit trail's own
    unit of work; who is asking is read first, while the account is still loaded."""
    actor = acting()
    db.discard()
    audit.record_apart(action, actor=actor, at=utcnow(), target=target, **details)


def deny(action: str, target: str = "", **details: Any) -> None:
    """Refuse with 403 and put the refusal, and nothing else, in the database."""
    refuse_apart("denied", target=target, attempted=action, **details)
    abort(403)


def roles(*allowed: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only signed-in accounts with one of these roles may use the view."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                deny(request.endpoint or "", request.path, role=current_user.role.value)
            return view(*args, **kwargs)

        return checked

    return decorate


ANYONE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


def current_scope(chosen: int | None = None) -> Scope:
    """What the signed-in account's lists show; ``chosen`` is the office an admin picked."""
    return Scope(current_user._get_current_object(), chosen)


def chosen_scope() -> Scope:
    """As ``current_scope``, with ``?office=`` as an admin's choice (the view declares
    ``OfficeQuery`` or a query built on it)."""
    return current_scope(query(OfficeQuery).office.data)


def find_request(typed: str) -> Request:
    """The request with this receipt number, if it is the account's office's; else 403."""
    number = receipts.parse(typed)
    found = get_session().scalars(select(Request).where(Request.receipt == number)).first()
    if found is None:
        raise RequestNotFound()
    if not scope.sees(current_user, found.office_id):
        deny(request.endpoint or "", number, office_id=found.office_id)
    return found


def find_point(code: str) -> PickupPoint:
    point = get_session().scalars(select(PickupPoint).where(PickupPoint.code == code)).first()
    if point is None:
        abort(404)
    if not scope.sees(current_user, point.office_id):
        deny(request.endpoint or "", code, office_id=point.office_id)
    return point
