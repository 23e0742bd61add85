"""The admins' pages for what ``setup load`` loads besides points and contacts: the services
(names, legal target, what to bring) and the year's collective leave days (cuti bersama).
Every change is audited; a refused form changes nothing."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.accounts.access import acting, bp, roles
from tracker.db import get_session
from tracker.errors import CodeTaken, LeaveDayError
from tracker.models import Role, Service, utcnow
from tracker.places import leave, services
from tracker.places.forms import LeaveDayForm, NewServiceForm, ServiceForm, YearQuery
from tracker.web.arguments import declare, query
from tracker.web.forms import ButtonForm
from tracker.web.wording import deferred_dates, explain, moved_windows


@bp.get("/services")
@roles(Role.ADMIN)
@declare()
def services_page() -> str:
    return render_template("staff/services.html", services=services.listed(get_session()))


@bp.get("/new-service")
@roles(Role.ADMIN)
@declare()
def new_service_page() -> str:
    return render_template("staff/new_service.html", form=NewServiceForm(formdata=None))


@bp.post("/new-service")
@roles(Role.ADMIN)
@declare(form=NewServiceForm)
def add_service() -> Response | tuple[str, int]:
    """A new service, as ``setup load`` makes one (admins): offered at intake from now on."""
    form = NewServiceForm()
    if not form.validate_on_submit():
        error = _("The service was not added: see the fields below.")
        return render_template("staff/new_service.html", form=form, error=error), 400
    try:
        services.add(get_session(), utcnow(), acting(), form.code.data, form.values())
    except CodeTaken:
        form.code.errors = [_("Another service has the code %(code)s.", code=form.code.data)]
        return render_template("staff/new_service.html", form=form, error=form.code.errors[0]), 409
    flash(_("Saved."))
    return redirect(url_for("staff.services_page"), 303)


def _service(code: str) -> Service:
    service = services.find(get_session(), code)
    if service is None:
        abort(404)
    return service


@bp.get("/services/<service_code>")
@roles(Role.ADMIN)
@declare()
def service_page(service_code: str) -> str:
    service = _service(service_code)
    return render_template("staff/service.html", service=service, form=ServiceForm(obj=service))


@bp.post("/services/<service_code>")
@roles(Role.ADMIN)
@declare(form=ServiceForm)
def change_service(service_code: str) -> Response | tuple[str, int]:
    service = _service(service_code)
    form = ServiceForm()
    if not form.validate_on_submit():
        error = _("The service was not saved: see the fields below.")
        return render_template("staff/service.html", service=service, form=form, error=error), 400
    changed = services.change(get_session(), utcnow(), acting(), service, form.values())
    flash(_("Saved.") if changed else _("Nothing was changed."))
    return redirect(url_for("staff.services_page"), 303)


def _leave_page(year: int, form: LeaveDayForm, **extra: object) -> str:
    session = get_session()
    return render_template(
        "staff/leave_days.html", year=year, days=leave.listed(session, year),
        years=sorted({*leave.years(session), year}), form=form, remove=ButtonForm(), **extra,
    )  # fmt: skip


@bp.get("/leave-days")
@roles(Role.ADMIN)
@declare(query=YearQuery)
def leave_days_page() -> str:
    year = query(YearQuery).tahun.data
    if year is None:
        year = utcnow().astimezone(ZoneInfo(current_user.office.timezone)).year
    return _leave_page(year, LeaveDayForm(formdata=None))


def _read_again() -> None:
    """This worker reads the days at its next unit; the others within their interval."""
    current_app.extensions["siapambil.calendar"].read_at = None


@bp.post("/leave-days")
@roles(Role.ADMIN)
@declare(form=LeaveDayForm)
def add_leave_day() -> Response | tuple[str, int]:
    form = LeaveDayForm()
    if not form.validate_on_submit():
        error = _("The leave day was not added: see the fields below.")
        year = form.day.data.year if form.day.data else utcnow().year
        return _leave_page(year, form, error=error), 400
    try:
        added = leave.add(
            get_session(), utcnow(), acting(), form.day.data, form.name.data,
            most=current_app.config["LEAVE_DAY_CONSOLE_MOST"],
        )  # fmt: skip
    except LeaveDayError as refused:
        return _leave_page(form.day.data.year, form, error=explain(refused)), 409
    _read_again()
    if added.moved:
        flash(moved_windows(len(added.moved)))
    if added.deferred:
        flash(deferred_dates(added.deferred))
    flash(_("Saved."))
    return redirect(url_for("staff.leave_days_page", tahun=added.leave.day.year), 303)


@bp.post("/leave-days/<id:leave_id>/delete")
@roles(Role.ADMIN)
@declare(form=ButtonForm)
def remove_leave_day(leave_id: int) -> Response:
    try:
        removed = leave.remove(get_session(), utcnow(), acting(), leave_id)
    except LeaveDayError as refused:
        flash(explain(refused))
        return redirect(url_for("staff.leave_days_page"), 303)
    _read_again()
    flash(_("Removed."))
    return redirect(url_for("staff.leave_days_page", tahun=removed.day.year), 303)
