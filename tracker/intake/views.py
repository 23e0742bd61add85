"""Intake at the counter: register a request and open its printable receipt at once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts.access import ANYONE, acting, bp, roles
from tracker.db import get_session
from tracker.intake import checks, nik, operations
from tracker.intake.forms import IntakeForm
from tracker.models import Channel, Office, PickupPoint, Service, utcnow
from tracker.models.requests import CITIZEN_CHANNELS
from tracker.places import pickup
from tracker.status import N_
from tracker.web.arguments import declare
from tracker.web.forms import options

LANGUAGES = ("id", "en")  # the languages of a citizen's messages and calendar entries
NIK_PROBLEMS = {
    "length": N_("A NIK has 16 digits."),
    "region": N_("The first six digits of this NIK are not a region code."),
    "birth_date": N_(
        "Digits 7 to 12 of this NIK are not a date of birth (a woman's day is plus 40)."
    ),
    "serial": N_("The last four digits of a NIK cannot be 0000."),
}


def _form(office: Office, now: dt.datetime) -> IntakeForm:
    """The intake form with no service chosen: the clerk picks it, in the reader's language."""
    db = get_session()
    form = IntakeForm()
    english = str(get_locale()) == "en"
    offered = select(Service).where(Service.offered)
    services = db.scalars(offered.order_by(Service.name_en if english else Service.name_id))
    names = ((s.id, s.name_en if english else s.name_id) for s in services)
    form.service.choices = options([("", _("Choose the service")), *names])
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
    if not form.is_submitted():
        return render_template("staff/intake.html", form=form)
    valid = form.validate_on_submit()
    # Every error at once: the intake's own checks run even when a field was refused.
    details = _details(form, now.astimezone(ZoneInfo(office.timezone)).date())
    if not valid or details is None:
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
    if not checked.ok and not form.nik.errors:
        form.nik.errors.append(_(NIK_PROBLEMS[checked.reason]))
    phone = checks.normalise_phone(form.phone.data or "") if form.phone.data else None
    if form.phone.data and phone is None and not form.phone.errors:
        form.phone.errors.append(_("Type a mobile number such as 0812 3456 7890."))
    email = (form.email.data or "").strip() or None
    chosen = form.channel.data if form.channel.data in {c.value for c in CITIZEN_CHANNELS} else None
    channel = Channel(chosen) if form.consent_notify.data and chosen else None
    if channel in (Channel.WHATSAPP, Channel.SMS) and phone is None:
        form.phone.errors.append(_("WhatsApp and SMS need a mobile number."))
    if channel == Channel.EMAIL and email is None and not form.email.errors:
        form.email.errors.append(_("E-mail notifications need an e-mail address."))
    delivery = form.handover.data == "delivery"
    if delivery and not (form.address.data or "").strip():
        form.address.errors.append(_("Delivery needs an address."))
    wanted = form.point.data if form.point.data and not form.point.errors else None
    point = get_session().get(PickupPoint, wanted) if wanted else None
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
        "language": form.language.data if form.language.data in LANGUAGES else "id",
        "wants_delivery": delivery,
        "preferred_point": None if delivery else point,
        "representative_allowed": bool(form.representative_allowed.data),
    }
