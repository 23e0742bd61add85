"""Handover at the counter: find the document by its receipt, see what the collector must
show, record who collected it."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from tracker.accounts.access import ANYONE, acting, find_request, roles
from tracker.audit import trail as audit
from tracker.counter import operations as counter
from tracker.db import discard, get_session, writes
from tracker.errors import DomainError, ReceiptError
from tracker.models import CollectorKind, Request, utcnow
from tracker.requests import operations
from tracker.requests.operations import Collector
from tracker.requests.status import Status
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
@writes
def handover_page() -> tuple[str, int] | str:
    typed = (query(ReceiptQuery).no.data or "").strip()
    if not typed:
        return _page(None)
    db = get_session()
    try:
        found = find_request(typed)
    except ReceiptError as error:
        return _page(None, error=explain(error), typed=typed[:80]), error.status
    audit.record(
        db, "view_request", actor=acting(), at=utcnow(), target=found.receipt, at_counter=True
    )
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
        counter.call(
            db, found, form.counter.data, actor=acting(), now=utcnow(),
            expected_version=form.version.data,
        )  # fmt: skip
    except DomainError as error:
        discard()
        return _page(find_request(receipt), error=explain(error)), error.status
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
        collector = Collector(
            CollectorKind(form.collector.data),
            id_checked=bool(form.id_checked.data),
            name=form.collector_name.data or "",
            relation=form.relation.data or "",
            attorney_checked=bool(form.attorney_checked.data),
        )
        operations.move(
            db, found, Status.COLLECTED, actor=acting(), now=utcnow(), config=current_app.config,
            expected_version=form.version.data, collector=collector,
            collector_kind=form.collector.data,
        )  # fmt: skip
    except DomainError as error:
        discard()
        fresh = find_request(receipt)
        form.version.data = fresh.version
        return _page(fresh, form, error=explain(error)), error.status
    flash(_("Handed over: %(number)s is collected.", number=found.pickup_number or ""))
    return redirect(url_for("staff.handover_page"), 303)
