"""Handover at the counter: find the document by its receipt, see what the collector must
show, record who collected it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import audit, handover
from tracker.db import get_session
from tracker.errors import DomainError, ReceiptError
from tracker.messages import explain
from tracker.models import CollectorKind, Request
from tracker.staff import bp
from tracker.staff.access import ANYONE, find_request, roles
from tracker.staff.forms import HandoverForm


def _page(found: Request | None, form: HandoverForm | None = None, **extra: object) -> str:
    if found is not None and form is None:
        form = HandoverForm(version=found.version)
    return render_template("staff/handover.html", r=found, form=form, **extra)


@bp.get("/handover")
@roles(*ANYONE)
def handover_page() -> tuple[str, int] | str:
    typed = request.args.get("no", "").strip()
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


@bp.post("/handover/<receipt>")
@roles(*ANYONE)
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
