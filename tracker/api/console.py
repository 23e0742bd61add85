"""The console's API keys page, for supervisors (keys of their own office) and admins (of any
offices): make a key (shown once), see each key's prefix, scope, offices and last use, and
revoke one. Making and revoking are audited; anything else is refused with 403, audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import SUPERVISORS, acting, bp, deny, roles
from tracker.api import keys
from tracker.api.forms import SCOPE_NAMES, NewKeyForm
from tracker.db import get_session
from tracker.errors import ApiKeyError
from tracker.models import ApiKey, KeyScope, Office, api_key_offices, utcnow
from tracker.web.arguments import declare
from tracker.web.forms import ButtonForm, options
from tracker.web.wording import explain


@bp.get("/api-keys")
@roles(*SUPERVISORS)
@declare()
def api_keys_page() -> str:
    return _page(_form(formdata=None))


@bp.post("/api-keys")
@roles(*SUPERVISORS)
@declare(form=NewKeyForm)
def create_api_key() -> tuple[str, int] | str:
    form = _form()
    if not form.validate_on_submit():
        return _page(form), 400
    wanted = form.chosen() or ([] if scope.is_admin(current_user) else [current_user.office_id])
    if not all(scope.sees(current_user, office_id) for office_id in wanted):
        deny("create_api_key", form.name.data or "", offices=wanted)
    session = get_session()
    offices = session.scalars(select(Office).where(Office.id.in_(wanted))).all()
    try:
        made = keys.create(
            session, utcnow(), acting(), name=form.name.data or "", offices=offices,
            scope=KeyScope(form.scope.data),
        )  # fmt: skip
    except ApiKeyError as error:
        field = form.offices if error.details.get("reason") == "no_office" else form.name
        field.errors.append(explain(error))
        return _page(form), 400
    return _page(_form(formdata=None), made=made)


@bp.post("/api-keys/<name>/revoke")
@roles(*SUPERVISORS)
@declare(form=ButtonForm)
def revoke_api_key(name: str) -> Response:
    session = get_session()
    key = keys.find(session, name)
    if key is None or not _sees(key) or not ButtonForm().validate_on_submit():
        deny("revoke_api_key", name)
    try:
        keys.revoke(session, utcnow(), acting(), key)
    except ApiKeyError as error:
        flash(explain(error))
        return redirect(url_for("staff.api_keys_page"), 303)
    flash(_("The API key %(name)s is revoked.", name=key.name))
    return redirect(url_for("staff.api_keys_page"), 303)


def _sees(key: ApiKey) -> bool:
    """A supervisor sees the keys that hold their office; an admin every key."""
    return any(scope.sees(current_user, office.id) for office in key.offices)


def _form(**kwargs: object) -> NewKeyForm:
    form = NewKeyForm(**kwargs)
    offices = get_session().scalars(select(Office).order_by(Office.name)).all()
    form.offices.choices = options((o.id, o.name) for o in offices)
    return form


def _page(form: NewKeyForm, made: tuple[ApiKey, str] | None = None) -> str:
    query = select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)
    if not scope.is_admin(current_user):
        holding = select(api_key_offices.c.key_id).where(
            api_key_offices.c.office_id == current_user.office_id
        )
        query = query.where(ApiKey.id.in_(holding))
    found = get_session().scalars(query).all()
    return render_template(
        "staff/api_keys.html", keys=found, form=ButtonForm(), new=form, made=made,
        pick_offices=scope.is_admin(current_user), scope_names=SCOPE_NAMES,
    )  # fmt: skip
