"""Signing in and out, choosing one's own password, and staff accounts for supervisors.
Failed sign-ins are throttled per account name and per client, and the answer is the same
whether the name exists or not; an account opened here gets a one-time password, shown once;
switching an account off ends its sessions at once."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
from tracker.accounts.forms import ROLE_NAMES, LoginForm, LoginQuery, NewAccountForm, PasswordForm
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.db import get_session
from tracker.errors import AccountError
from tracker.extensions import RateRule, rate_limited
from tracker.models import Office, Role, StaffAccount, utcnow
from tracker.web.arguments import declare, query
from tracker.web.forms import ButtonForm, options
from tracker.web.wording import explain

FAILED = 401
# /staff itself or below it, in printable ASCII (no space or control character)
SAFE_PATH = re.compile(r"/staff(?:[/?#][!-~]*)?")
# a "." or ".." segment of the path (also written %2e, or after a backslash, which browsers
# read as "/"): "/staff/../x" is "/x" once a browser has resolved it
DOT_SEGMENT = re.compile(r"(?:^|[/\\])(?:\.|%2e){1,2}(?:[/\\]|$)", re.IGNORECASE)


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
    if account.must_change_password:
        return redirect(url_for("staff.password_page"), 303)
    return redirect(_safe_next(form.next.data), 303)


def _safe_next(target: str | None) -> str:
    """Only a path of the console on this site: a text that starts with ``/staff`` has no
    scheme and no host, so it never leads elsewhere, and a path without dot segments stays
    in the console once a browser resolves it."""
    if target and SAFE_PATH.fullmatch(target) and not DOT_SEGMENT.search(urlsplit(target).path):
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


@bp.route("/password", methods=["GET", "POST"])
@rate_limited(RateRule(_account_limit, "password", methods=("POST",), deduct_when=_failed))
@login_required
@declare(form=PasswordForm)
def password_page() -> Response | tuple[str, int]:
    form = PasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("staff/password.html", form=form), status
    account = current_user._get_current_object()
    try:
        accounts.choose_password(
            get_session(), utcnow(), acting(), account,
            current=form.current.data or "", new=form.new.data or "",
        )  # fmt: skip
    except AccountError as error:
        wrong = error.details.get("reason") == "password_wrong"
        (form.current if wrong else form.new).errors.append(explain(error))
        # a wrong current password is a failed sign-in: it counts against the client's budget
        return render_template("staff/password.html", form=form), FAILED if wrong else 400
    login_user(account)  # this session goes on; every other one has ended
    flash(_("Your new password is set."))
    return redirect(url_for("staff.home"), 303)


@bp.get("/accounts")
@roles(*SUPERVISORS)
@declare()
def accounts_page() -> str:
    return _accounts(_account_form(formdata=None))


@bp.post("/accounts")
@roles(*SUPERVISORS)
@declare(form=NewAccountForm)
def create_account() -> tuple[str, int] | str:
    form = _account_form()
    if not form.validate_on_submit():
        return _accounts(form), 400
    office_id, role = form.office.data or current_user.office_id, Role(form.role.data)
    if not scope.may_open(current_user, office_id, role):
        deny("create_account", form.username.data or "", office_id=office_id, role=role.value)
    db = get_session()
    try:
        opened = accounts.open_account(
            db, utcnow(), acting(), username=form.username.data or "",
            full_name=form.full_name.data or "", office=db.get(Office, office_id), role=role,
        )  # fmt: skip
    except AccountError as error:
        form.username.errors.append(explain(error))
        return _accounts(form), 400
    return _accounts(_account_form(formdata=None), opened=opened)


def _account_form(**kwargs: object) -> NewAccountForm:
    """The form to open an account, offering the offices and roles this account may give."""
    form = NewAccountForm(**kwargs)
    offices = get_session().scalars(select(Office).order_by(Office.name)).all()
    form.office.choices = options((o.id, o.name) for o in offices)
    form.role.choices = options((r.value, ROLE_NAMES[r]) for r in Role)
    if form.office.data is None:
        form.office.data = current_user.office_id
    return form


def _accounts(form: NewAccountForm, opened: tuple[StaffAccount, str] | None = None) -> str:
    """The accounts page; the form shows only the roles this account may give (any other
    is refused as a forgery)."""
    form.role.choices = options((r.value, ROLE_NAMES[r]) for r in scope.roles_to_give(current_user))
    query = select(StaffAccount).order_by(StaffAccount.office_id, StaffAccount.username)
    found = get_session().scalars(current_scope().limit(query, StaffAccount.office_id)).all()
    return render_template(
        "staff/accounts.html", accounts=found, form=ButtonForm(), new=form, opened=opened,
        pick_office=scope.is_admin(current_user), role_names=ROLE_NAMES,
    )  # fmt: skip


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
