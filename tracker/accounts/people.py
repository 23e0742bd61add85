"""Staff accounts for supervisors: who has an account, and switching one off or on again.
Switching an account off ends its sessions at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import operations as accounts
from tracker.accounts import scope
from tracker.accounts.access import SUPERVISORS, acting, current_scope, deny, roles
from tracker.audit import trail as audit
from tracker.db import get_session
from tracker.models import StaffAccount, utcnow
from tracker.web.arguments import declare
from tracker.web.console import bp
from tracker.web.forms import AccountForm


@bp.get("/accounts")
@roles(*SUPERVISORS)
@declare()
def accounts_page() -> str:
    query = select(StaffAccount).order_by(StaffAccount.office_id, StaffAccount.username)
    found = get_session().scalars(current_scope().limit(query, StaffAccount.office_id)).all()
    return render_template("staff/accounts.html", accounts=found, form=AccountForm())


def _may_change(account: StaffAccount) -> bool:
    if account.id == current_user.id:
        return False
    if scope.is_admin(current_user):
        return True
    return scope.sees(current_user, account.office_id) and not scope.is_admin(account)


@bp.post("/accounts/<username>/<any(on, off):state>")
@roles(*SUPERVISORS)
@declare(form=AccountForm)
def switch_account(username: str, state: str) -> Response:
    db = get_session()
    account = accounts.find(db, username)
    if account is None or not _may_change(account) or not AccountForm().validate_on_submit():
        deny("switch_account", username)
    accounts.set_active(account, state == "on")
    audit.record(db, "account_" + state, actor=acting(), at=utcnow(), target=account.username)
    flash(_("Saved."))
    return redirect(url_for("staff.accounts_page"), 303)
