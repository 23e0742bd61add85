"""Intake at the counter: register a request and open its printable receipt at once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts.access import ANYONE, acting, bp, roles
from tracker.db import get_session
from tracker.intake import checks, nik, operations
from tracker.intake.forms import IntakeForm
from tracker.models import Channel, Office, PickupPoint, Service, utcnow
from tracker.places import pickup
from tracker.status import N_
from tracker.web.arguments import declare
from tracker.web.forms import options

NIK_PROBLEMS = {
    "length": N_("A NIK has 16 digits."),
    "region": N_("The first six digits of this NIK are not a region code."),
    "birth_date": N_(
        "Digits 7 to 12 of this NIK are not a date of birth (a woman's day is plus 40)."
    ),
    "serial": N_("The last four digits of a NIK cannot be 0000."),
}


def _form(office: Office, now: dt.datetime) -> IntakeForm:
    db = get_session()
    form = IntakeForm()
    services = db.scalars(select(Service).order_by(Service.name_id))
    form.service.choices = options((s.id, s.name_id) for s in services)
    points = pickup.choices(db, office.id, now)
    form.point.choices = options((p.id, p.name) for p in points if not p.is_visit)
    return form


@bp.route("/intake", methods=["GET", "POST"])
@roles(*ANYONE)
@declare(form=IntakeForm)
def intake_page() -> Response | tuple[str, int] | str:
    now = utcnow()
    office = current_user.office
    form = _form(office, now)
    if not form.validate_on_submit():
        return render_template("staff/intake.html", form=form), 400 if form.is_submitted() else 200
    details = _details(form, now.astimezone(ZoneInfo(office.timezone)).date())
    if details is None:
        return render_template("staff/intake.html", form=form), 400
    db = get_session()
    service = db.get(Service, form.service.data)
    duplicates = operations.open_duplicates(db, details["nik"], service)
    if duplicates and not form.confirm_duplicate.data:
        return render_template("staff/intake.html", form=form, duplicates=duplicates), 409
    made = operations.register(
        db, office=office, service=service, actor=acting(), now=now, **details
    )
    return redirect(url_for("staff.printable", receipt=made.receipt), 303)


def _details(form: IntakeForm, today: dt.date) -> dict | None:
    """The request's columns from a valid form, or None with the field errors set; ``today``
    is the office's date, which a NIK's birth date may not pass."""
    checked = nik.check(form.nik.data or "", today)
    if not checked.ok:
        form.nik.errors.append(_(NIK_PROBLEMS[checked.reason]))
    phone = checks.normalise_phone(form.phone.data or "") if form.phone.data else None
    if form.phone.data and phone is None:
        form.phone.errors.append(_("Type a mobile number such as 0812 3456 7890."))
    email = (form.email.data or "").strip() or None
    channel = Channel(form.channel.data) if form.consent_notify.data else None
    if channel in (Channel.WHATSAPP, Channel.SMS) and phone is None:
        form.phone.errors.append(_("WhatsApp and SMS need a mobile number."))
    if channel == Channel.EMAIL and email is None:
        form.email.errors.append(_("E-mail notifications need an e-mail address."))
    delivery = form.handover.data == "delivery"
    if delivery and not (form.address.data or "").strip():
        form.address.errors.append(_("Delivery needs an address."))
    point = get_session().get(PickupPoint, form.point.data) if form.point.data else None
    if any(field.errors for field in form):
        return None
    return {
        "applicant_name": form.applicant_name.data or "",
        "nik": checked.nik,
        "phone": phone,
        "email": email,
        "address": (form.address.data or "").strip() or None,
        "consent_notify": bool(form.consent_notify.data),
        "channel": channel,
        "wants_delivery": delivery,
        "preferred_point": None if delivery else point,
        "representative_allowed": bool(form.representative_allowed.data),
    }
