"""Handover at the counter: find the document by its receipt, see what the collector must
show, record who collected it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.accounts.access import ANYONE, find_request, roles
from tracker.audit import trail as audit
from tracker.counter import operations as handover
from tracker.db import get_session
from tracker.errors import DomainError, ReceiptError
from tracker.models import CollectorKind, Request, utcnow
from tracker.web.arguments import declare, query
from tracker.web.console import bp
from tracker.web.forms import CallForm, HandoverForm, ReceiptQuery
from tracker.web.wording import explain


def _page(found: Request | None, form: HandoverForm | None = None, **extra: object) -> str:
    call_form = None
    if found is not None:
        if form is None:
            form = HandoverForm(version=found.version)
        call_form = _call_form(found, submitted=False)
    return render_template("staff/handover.html", r=found, form=form, call_form=call_form, **extra)


def _call_form(found: Request, submitted: bool) -> CallForm:
    """The form to call ``found`` to a counter of its point (the lobby board shows the call)."""
    if submitted:
        form = CallForm()
    else:
        form = CallForm(formdata=None, version=found.version, counter=found.counter)
    counters = found.pickup_point.counters if found.pickup_point is not None else []
    form.counter.choices = [(c, c) for c in counters or []]
    return form


@bp.get("/handover")
@roles(*ANYONE)
@declare(query=ReceiptQuery)
def handover_page() -> tuple[str, int] | str:
    typed = (query(ReceiptQuery).no.data or "").strip()
    if not typed:
        return _page(None)
    db = get_session(write=True)
    try:
        found = find_request(typed)
    except ReceiptError as error:
        return _page(None, error=explain(error), typed=typed[:80]), error.status
    audit.record(db, "view_request", target=found.receipt, at_counter=True)
    db.commit()
    return _page(found)


@bp.post("/call/<receipt>")
@roles(*ANYONE)
@declare(form=CallForm)
def call(receipt: str) -> Response | tuple[str, int]:
    db = get_session()
    found = find_request(receipt)
    form = _call_form(found, submitted=True)
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Choose a counter."))
        handover.call(db, found, form.counter.data, expected_version=form.version.data, at=utcnow())
    except DomainError as error:
        db.rollback()
        return _page(find_request(receipt), error=explain(error)), error.status
    audit.record(db, "call", target=found.receipt, counter=found.counter)
    db.commit()
    flash(
        _("%(number)s is called to %(counter)s.", number=found.pickup_number, counter=found.counter)
    )
    return redirect(url_for("staff.handover_page", no=found.receipt), 303)


@bp.post("/handover/<receipt>")
@roles(*ANYONE)
@declare(form=HandoverForm)
def hand_over(receipt: str) -> Response | tuple[str, int]:
    db = get_session()
    found = find_request(receipt)
    form = HandoverForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("The form is incomplete."))
        handover.collect(
            db,
            found,
            collector=CollectorKind(form.collector.data),
            id_checked=bool(form.id_checked.data),
            actor=current_user.username,
            expected_version=form.version.data,
            name=form.collector_name.data or "",
            relation=form.relation.data or "",
            attorney_checked=bool(form.attorney_checked.data),
            at=utcnow(),
        )
    except DomainError as error:
        db.rollback()
        fresh = find_request(receipt)
        form.version.data = fresh.version
        return _page(fresh, form, error=explain(error)), error.status
    audit.record(
        db, "transition", target=found.receipt, to="collected", collector=form.collector.data
    )
    db.commit()
    flash(_("Handed over: %(number)s is collected.", number=found.pickup_number or ""))
    return redirect(url_for("staff.handover_page"), 303)
