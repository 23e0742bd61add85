"""The console's webhooks page, beside the API keys, for supervisors (their own office's
subscriptions) and admins (any office's): subscribe a receiver (its signing secret shown
once), see each subscription's events and last delivery, rotate its secret (the new one
shown once; the previous one signs too for a day) and remove it. Each change is audited;
anything else is refused with 403, audited."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import SUPERVISORS, acting, bp, deny, roles
from tracker.db import get_session
from tracker.errors import WebhookError
from tracker.models import Office, WebhookSubscription, utcnow
from tracker.web.arguments import declare
from tracker.web.forms import ButtonForm, options
from tracker.web.wording import explain
from tracker.webhooks import sealing, subscriptions
from tracker.webhooks.forms import EVENT_NAMES, NewWebhookForm


@bp.get("/webhooks")
@roles(*SUPERVISORS)
@declare()
def webhooks_page() -> str:
    return _page(_form(formdata=None))


@bp.post("/webhooks")
@roles(*SUPERVISORS)
@declare(form=NewWebhookForm)
def add_webhook() -> tuple[str, int] | str:
    form = _form()
    if not form.validate_on_submit():
        return _page(form), 400
    chosen = form.office.data if scope.is_admin(current_user) else None
    if chosen is not None and chosen not in {choice.value for choice in form.office.choices}:
        form.office.errors = [_("Not a valid choice.")]
        return _page(form), 400
    office_id = chosen or current_user.office_id
    session = get_session()
    office = session.get(Office, office_id) if office_id else None
    if office is None or not scope.sees(current_user, office.id):
        deny("add_webhook", form.url.data or "", office=office_id)
    try:
        made = subscriptions.add(
            session, utcnow(), acting(), office=office, url=form.url.data or "",
            events=form.events.data or [], ring=sealing.keyring(current_app.config),
        )  # fmt: skip
    except WebhookError as error:
        field = form.events if error.details.get("reason") == "events" else form.url
        field.errors.append(explain(error))
        return _page(form), 400
    return _page(_form(formdata=None), made=made)


@bp.post("/webhooks/<id:subscription_id>/rotate")
@roles(*SUPERVISORS)
@declare(form=ButtonForm)
def rotate_webhook(subscription_id: int) -> str | Response:
    found = _owned(subscription_id, "rotate_webhook")
    try:
        secret = subscriptions.rotate(
            get_session(), utcnow(), acting(), found, ring=sealing.keyring(current_app.config)
        )
    except WebhookError as error:
        flash(explain(error))
        return redirect(url_for("staff.webhooks_page"), 303)
    return _page(_form(formdata=None), made=(found, secret))


@bp.post("/webhooks/<id:subscription_id>/remove")
@roles(*SUPERVISORS)
@declare(form=ButtonForm)
def remove_webhook(subscription_id: int) -> Response:
    found = _owned(subscription_id, "remove_webhook")
    try:
        subscriptions.remove(get_session(), utcnow(), acting(), found)
    except WebhookError as error:
        flash(explain(error))
        return redirect(url_for("staff.webhooks_page"), 303)
    flash(_("The webhook %(id)s is removed.", id=found.id))
    return redirect(url_for("staff.webhooks_page"), 303)


def _owned(subscription_id: int, action: str) -> WebhookSubscription:
    """The subscription, if the account sees its office and the form carries its token;
    else 403, audited."""
    found = get_session().get(WebhookSubscription, subscription_id)
    if (
        found is None
        or not scope.sees(current_user, found.office_id)
        or not ButtonForm().validate_on_submit()
    ):
        deny(action, str(subscription_id))
    return found  # type: ignore[return-value]


def _form(**kwargs: object) -> NewWebhookForm:
    form = NewWebhookForm(**kwargs)
    offices = get_session().scalars(select(Office).order_by(Office.name)).all()
    form.office.choices = options((o.id, o.name) for o in offices)
    return form


def _page(form: NewWebhookForm, made: tuple[WebhookSubscription, str] | None = None) -> str:
    office_ids = None if scope.is_admin(current_user) else [current_user.office_id]
    found = subscriptions.listed(get_session(), office_ids)
    return render_template(
        "staff/webhooks.html", subscriptions=found, form=ButtonForm(), new=form, made=made,
        pick_office=scope.is_admin(current_user), event_names=EVENT_NAMES,
    )  # fmt: skip
