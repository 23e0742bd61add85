"""Pickup points for supervisors: opening hours, closures, counters, where a point is (for
map links), mobile-service visits; and the office's contacts citizens read (a supervisor's
own office, an admin's any)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import SUPERVISORS, acting, bp, current_scope, deny, find_point, roles
from tracker.audit import trail as audit
from tracker.db import discard, get_session
from tracker.errors import CodeTaken
from tracker.models import Office, OfficeKind, PickupPoint, PointKind, Role, utcnow
from tracker.places import closures, pickup
from tracker.places.forms import (
    PERIODS_PER_DAY,
    ClosureForm,
    ContactForm,
    CountersForm,
    HoursForm,
    LocationForm,
    NewPointForm,
    OfficeForm,
    PointForm,
    VisitForm,
)
from tracker.web.arguments import declare
from tracker.web.forms import ButtonForm
from tracker.web.wording import moved_windows


def _hours_form(point: PickupPoint) -> HoursForm:
    form = HoursForm()
    if not form.is_submitted():
        seen: dict[int, int] = {}
        for period in point.hours:
            index = seen.get(period.weekday, 0)
            seen[period.weekday] = index + 1
            if index < PERIODS_PER_DAY:
                form[HoursForm.field_name(period.weekday, index, "opens")].data = period.opens
                form[HoursForm.field_name(period.weekday, index, "closes")].data = period.closes
    return form


def _page(point: PickupPoint, **forms: object) -> str:
    forms.setdefault("hours", _hours_form(point))
    forms.setdefault("closure", ClosureForm())
    forms.setdefault("counters", CountersForm(counters=", ".join(point.counters or [])))
    forms.setdefault("location", _location_form(point))
    if scope.is_admin(current_user) and point.visit_starts is None:
        forms.setdefault("details", PointForm(obj=point, formdata=None))
    return render_template("staff/point.html", point=point, periods=PERIODS_PER_DAY, **forms)


def _location_form(point: PickupPoint) -> LocationForm:
    def shown(value: float | None) -> str:
        return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")

    return LocationForm(latitude=shown(point.latitude), longitude=shown(point.longitude))


def _listed(now: dt.datetime) -> list[PickupPoint]:
    """The points the account sees, with the mobile-service visits not yet over."""
    query = select(PickupPoint).order_by(PickupPoint.office_id, PickupPoint.id)
    found = get_session().scalars(current_scope().limit(query, PickupPoint.office_id))
    return [p for p in found if p.visit_ends is None or p.visit_ends > now]


def _new_point_form(*, posted: bool = True) -> NewPointForm:
    form = NewPointForm() if posted else NewPointForm(formdata=None)
    form.office.choices = [(o.code, f"{o.name} ({o.code})") for o in _offices()]
    return form


def _points_page(**forms: object) -> str:
    """The points the account sees, and the form for a mobile-service visit."""
    forms.setdefault("visit", VisitForm(formdata=None))
    return render_template(
        "staff/points.html", points=_listed(utcnow()), offices=_offices(), **forms
    )


@bp.get("/points")
@roles(*SUPERVISORS)
@declare()
def points() -> str:
    return _points_page()


@bp.get("/new-point")
@roles(Role.ADMIN)
@declare()
def new_point_page() -> str:
    return render_template("staff/new_point.html", form=_new_point_form(posted=False))


@bp.post("/new-point")
@roles(Role.ADMIN)
@declare(form=NewPointForm)
def add_point() -> Response | tuple[str, int]:
    """A new pickup point of any office, as ``setup load`` makes one (admins); it is offered
    for ready documents once it has opening hours, set on its page next."""
    form = _new_point_form()
    if not form.validate_on_submit():
        error = _("The pickup point was not added: see the fields below.")
        return render_template("staff/new_point.html", form=form, error=error), 400
    office = _find_office(form.office.data)  # one of the form's choices: the offices seen
    try:
        point = pickup.add_point(
            get_session(), utcnow(), acting(), office, code=form.code.data,
            name=" ".join(form.name.data.split()), kind=PointKind(form.kind.data),
            address=" ".join(form.address.data.split()), counters=form.names(),
            number_prefix=form.number_prefix.data,
        )  # fmt: skip
    except CodeTaken:
        form.code.errors = [_("Another pickup point has the code %(code)s.", code=form.code.data)]
        return render_template("staff/new_point.html", form=form, error=form.code.errors[0]), 409
    flash(_("Saved. Set its opening hours below: no document waits there until it has them."))
    return redirect(url_for("staff.point_page", code=point.code), 303)


@bp.get("/points/<code>")
@roles(*SUPERVISORS)
@declare()
def point_page(code: str) -> str:
    return _page(find_point(code))


@bp.post("/points/<code>/hours")
@roles(*SUPERVISORS)
@declare(form=HoursForm)
def point_hours(code: str) -> Response | tuple[str, int]:
    point = find_point(code)
    form = _hours_form(point)
    try:
        if not form.validate_on_submit():
            raise ValueError("invalid times")
        periods = form.periods()
        pickup.set_hours(point, periods)
    except ValueError:
        discard()
        error = " ".join(str(e) for e in form.form_errors) or _(
            "Each period needs an opening time before its closing time (HH:MM)."
        )
        return _page(find_point(code), hours=form, error=error), 400
    return _saved(point, "point_hours", periods=len(periods))


def _saved(point: PickupPoint, action: str, **details: object) -> Response:
    db = get_session()
    audit.record(db, action, actor=acting(), at=utcnow(), target=point.code, **details)
    flash(_("Saved."))
    return redirect(url_for("staff.point_page", code=point.code), 303)


@bp.post("/points/<code>/counters")
@roles(*SUPERVISORS)
@declare(form=CountersForm)
def point_counters(code: str) -> Response | tuple[str, int]:
    point = find_point(code)
    form = CountersForm()
    if not form.validate_on_submit():
        return _page(point, counters=form, error=_("The counters were not saved.")), 400
    point.counters = form.names()
    return _saved(point, "point_counters", counters=point.counters)


@bp.post("/points/<code>/location")
@roles(*SUPERVISORS)
@declare(form=LocationForm)
def point_location(code: str) -> Response | tuple[str, int]:
    point = find_point(code)
    form = LocationForm()
    if not form.validate_on_submit():
        error = _("The location was not saved: see the fields below.")
        return _page(point, location=form, error=error), 400
    point.latitude, point.longitude = form.coordinates()
    return _saved(point, "point_location", latitude=point.latitude, longitude=point.longitude)


def _apply(row: Office | PickupPoint, typed: dict[str, object]) -> dict[str, dict[str, str]]:
    """Set the values typed that differ from the row's; each change as ``from`` and ``to``,
    for the audit trail."""
    changed = {k: {"from": str(getattr(row, k)), "to": str(v)} for k, v in typed.items()
               if getattr(row, k) != v}  # fmt: skip
    for name in changed:
        setattr(row, name, typed[name])
    return changed


@bp.post("/points/<code>/details")
@roles(Role.ADMIN)
@declare(form=PointForm)
def point_details(code: str) -> Response | tuple[str, int]:
    """A point's name, kind and address, as ``setup load`` sets them (admins); a mobile
    service's visit is named where it is added."""
    point = find_point(code)
    if point.visit_starts is not None:
        abort(404)
    form = PointForm()
    if not form.validate_on_submit():
        error = _("The pickup point was not saved: see the fields below.")
        return _page(point, details=form, error=error), 400
    typed = {
        "name": " ".join(form.name.data.split()), "kind": PointKind(form.kind.data),
        "address": " ".join(form.address.data.split()),
    }  # fmt: skip
    changed = _apply(point, typed)
    if not changed:
        flash(_("Nothing was changed."))
        return redirect(url_for("staff.point_page", code=point.code), 303)
    return _saved(point, "point_details", **changed)


@bp.post("/points/<code>/closures")
@roles(*SUPERVISORS)
@declare(form=ClosureForm)
def add_closure(code: str) -> Response | tuple[str, int]:
    point = find_point(code)
    form = ClosureForm()
    if not form.validate_on_submit():
        error = _("The closure was not added: see the fields below.")
        return _page(point, closure=form, error=error), 400
    if any(c.day == form.day.data for c in point.closures):
        return _page(point, closure=form, error=_("The point is already closed that day.")), 409
    now = utcnow()
    closed = closures.close(
        get_session(), point, form.day.data, form.reason.data or "",
        actor=acting(), now=now, config=current_app.config,
    )  # fmt: skip
    if closed.moved:
        flash(moved_windows(len(closed.moved)))
    flash(_("Saved."))
    return redirect(url_for("staff.point_page", code=point.code), 303)


@bp.post("/points/<code>/closures/<id:closure_id>/delete")
@roles(*SUPERVISORS)
@declare(form=ButtonForm)
def remove_closure(code: str, closure_id: int) -> Response:
    point = find_point(code)
    closure = next((c for c in point.closures if c.id == closure_id), None)
    if closure is None:
        deny("remove_closure", f"{code}/{closure_id}")
    point.closures.remove(closure)
    return _saved(point, "closure_removed", day=closure.day.isoformat())


@bp.post("/visits")
@roles(*SUPERVISORS)
@declare(form=VisitForm)
def add_visit() -> Response | tuple[str, int]:
    form = VisitForm()
    office = current_user.office
    db = get_session()
    if form.validate_on_submit():
        zone = ZoneInfo(office.timezone)
        starts = dt.datetime.combine(form.day.data, form.opens.data, zone).astimezone(dt.UTC)
        ends = dt.datetime.combine(form.day.data, form.closes.data, zone).astimezone(dt.UTC)
        if starts < ends and ends > utcnow():
            visit = pickup.schedule_visit(
                db, office, name=form.name.data, address=form.address.data, starts=starts, ends=ends
            )
            return _saved(visit, "visit_scheduled", starts=starts.isoformat())
    error = _(
        "A visit needs a place, an address, and a time in the future that ends after it starts."
    )
    return _points_page(visit=form, error=error), 400


def _find_office(code: str) -> Office:
    """The office with this code, if the account may see it (an admin any); else 403."""
    office = get_session().scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        abort(404)
    if not scope.sees(current_user, office.id):
        deny("office", code, office_id=office.id)
    return office


def _offices() -> list[Office]:
    query = select(Office).order_by(Office.name)
    return list(get_session().scalars(current_scope().limit(query, Office.id)))


def _office_page(office: Office, **forms: object) -> str:
    """The office's page: its contacts, and for an admin its name, kind, zone and address."""
    forms.setdefault(
        "contact", ContactForm(phone=office.phone, whatsapp=office.whatsapp, email=office.email)
    )
    if scope.is_admin(current_user):
        forms.setdefault("details", OfficeForm(obj=office, formdata=None))
    return render_template("staff/office.html", office=office, **forms)


@bp.get("/offices/<office_code>")
@roles(*SUPERVISORS)
@declare()
def office_page(office_code: str) -> str:
    return _office_page(_find_office(office_code))


@bp.post("/offices/<office_code>/contact")
@roles(*SUPERVISORS)
@declare(form=ContactForm)
def office_contact(office_code: str) -> Response | tuple[str, int]:
    office = _find_office(office_code)
    form = ContactForm()
    if not form.validate_on_submit():
        error = _("The contacts were not saved: see the fields below.")
        return _office_page(office, contact=form, error=error), 400
    office.phone = (form.phone.data or "").strip()
    office.whatsapp = (form.whatsapp.data or "").strip()
    office.email = (form.email.data or "").strip()
    audit.record(
        get_session(), "office_contact", actor=acting(), at=utcnow(), target=office.code,
        phone=office.phone, whatsapp=office.whatsapp, email=office.email,
    )  # fmt: skip
    flash(_("Saved."))
    return redirect(url_for("staff.office_page", office_code=office.code), 303)


@bp.post("/offices/<office_code>/details")
@roles(Role.ADMIN)
@declare(form=OfficeForm)
def office_details(office_code: str) -> Response | tuple[str, int]:
    """An office's name, kind, time zone and address, as ``setup load`` sets them (admins)."""
    office = _find_office(office_code)
    form = OfficeForm()
    if not form.validate_on_submit():
        error = _("The office was not saved: see the fields below.")
        return _office_page(office, details=form, error=error), 400
    typed = {
        "name": " ".join(form.name.data.split()), "kind": OfficeKind(form.kind.data),
        "timezone": form.timezone.data, "address": (form.address.data or "").strip(),
    }  # fmt: skip
    changed = _apply(office, typed)
    if changed:
        audit.record(get_session(), "office_details", actor=acting(), at=utcnow(),
                     target=office.code, **changed)  # fmt: skip
    flash(_("Saved.") if changed else _("Nothing was changed."))
    return redirect(url_for("staff.office_page", office_code=office.code), 303)
