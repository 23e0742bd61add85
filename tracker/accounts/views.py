"""Signing in and out, and staff accounts for supervisors. Failed sign-ins are throttled per
account name and per client, and the answer is the same whether the name exists or not;
switching an account off ends its sessions at once."""

from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import operations as accounts
from tracker.accounts import scope
from tracker.accounts.access import (
    SEEN,
    SUPERVISORS,
    acting,
    bp,
    current_scope,
    deny,
    refuse_apart,
    roles,
)
from tracker.accounts.forms import LoginForm, LoginQuery
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.db import get_session
from tracker.extensions import RateRule, rate_limited
from tracker.models import StaffAccount, utcnow
from tracker.web.arguments import declare, query
from tracker.web.forms import ButtonForm

FAILED = 401
SAFE_PATH = re.compile(r"/staff[!-~]*")  # printable ASCII, no space or control character


def _account_key() -> str:
    return "login-account:" + accounts.normalise_username(request.form.get("username", ""))


def _failed(response: Response) -> bool:
    return response.status_code == FAILED


def _client_limit() -> str:
    return current_app.config["LOGIN_CLIENT_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@rate_limited(RateRule(_client_limit, "login-client", methods=("POST",), deduct_when=_failed))
@rate_limited(
    RateRule(_account_limit, "login", key_func=_account_key, methods=("POST",), deduct_when=_failed)
)
@declare(query=LoginQuery, form=LoginForm)
def login() -> Response | tuple[str, int] | str:
    form = LoginForm(next=query(LoginQuery).next.data or "")
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form), 400 if form.is_submitted() else 200
    db = get_session()
    now = utcnow()
    account = accounts.authenticate(db, form.username.data or "", form.password.data or "", now)
    if account is None:
        refuse_apart("sign_in_failed", username=(form.username.data or "")[:60])
        error = _("The username or the password is wrong.")
        return render_template("staff/login.html", form=form, error=error), FAILED
    session.clear()  # a new session: nothing from before signing in is carried over
    login_user(account)
    session[SEEN] = int(now.timestamp())
    generate_csrf()  # and a new CSRF token with it
    audit.record(db, "sign_in", actor=Actor(account.username, acting().address), at=now)
    return redirect(_safe_next(form.next.data), 303)


def _safe_next(target: str | None) -> str:
    """Only a path of the console on this site: a text that starts with ``/staff`` has no
    scheme and no host, so it never leads elsewhere."""
    if target and SAFE_PATH.fullmatch(target):
        return target
    return url_for("staff.home")


@bp.post("/logout")
@login_required
@declare(form=ButtonForm)
def logout() -> Response:
    db = get_session()
    account = current_user._get_current_object()
    accounts.end_sessions(account)
    audit.record(db, "sign_out", actor=acting(), at=utcnow())
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"), 303)


@bp.get("/accounts")
@roles(*SUPERVISORS)
@declare()
def accounts_page() -> str:
    query = select(StaffAccount).order_by(StaffAccount.office_id, StaffAccount.username)
    found = get_session().scalars(current_scope().limit(query, StaffAccount.office_id)).all()
    return render_template("staff/accounts.html", accounts=found, form=ButtonForm())


def _may_change(account: StaffAccount) -> bool:
    if account.id == current_user.id:
        return False
    if scope.is_admin(current_user):
        return True
    return scope.sees(current_user, account.office_id) and not scope.is_admin(account)


@bp.post("/accounts/<username>/<any(on, off):state>")
@roles(*SUPERVISORS)
@declare(form=ButtonForm)
def switch_account(username: str, state: str) -> Response:
    db = get_session()
    account = accounts.find(db, username)
    if account is None or not _may_change(account) or not ButtonForm().validate_on_submit():
        deny("switch_account", username)
    accounts.set_active(account, state == "on")
    audit.record(db, "account_" + state, actor=acting(), at=utcnow(), target=account.username)
    flash(_("Saved."))
    return redirect(url_for("staff.accounts_page"), 303)
