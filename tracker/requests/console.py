"""The requests in the console: the home page with counts per status, a status's queue, the
overdue list and search; one request's page with its whole history and the moves it can
make; its printable receipt."""

from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import ANYONE, acting, bp, chosen_scope, find_request, roles
from tracker.audit import search as audit_search
from tracker.audit import trail as audit
from tracker.db import discard, get_engine, get_session, writes
from tracker.errors import ConflictError, DomainError, MissingDetails
from tracker.models import Office, PickupPoint, Request, utcnow
from tracker.outbox import queries as outbox_queries
from tracker.places import pickup
from tracker.requests import operations, public, workflow
from tracker.requests import queries as queues
from tracker.requests.forms import CancelForm, MoveForm, SearchQuery, form_for
from tracker.requests.operations import Courier
from tracker.status import Status
from tracker.web.arguments import declare, query
from tracker.web.edge import PaperQuery
from tracker.web.forms import OfficeQuery, PageQuery, options
from tracker.web.wording import explain

PAPERS = ("a5", "80mm", "58mm")
PAPER_COOKIE = "receipt_paper"


def point_choices(request: Request, now: dt.datetime) -> list[PickupPoint]:
    return pickup.choices(get_session(), request.office_id, now)


def move_forms(request: Request, now: dt.datetime) -> dict[Status, MoveForm]:
    """One form per move the request can make here (collection has the handover page)."""
    points = options((p.id, p.name) for p in point_choices(request, now))
    forms = {}
    for move in workflow.TRANSITIONS[request.status]:
        if move.to == Status.COLLECTED:
            continue
        kind = form_for(move.to.value)
        form = kind(prefix=move.to.value, to=move.to.value, version=request.version)
        form.point.choices = points
        forms[move.to] = form
    return forms


@bp.get("/r/<receipt>")
@roles(*ANYONE)
@declare()
@writes
def request_page(receipt: str) -> str:
    db = get_session()
    found = find_request(receipt)
    audit.record(db, "view_request", actor=acting(), at=utcnow(), target=found.receipt)
    return _page(found, move_forms(found, utcnow()))


def _page(found: Request, forms: dict[Status, MoveForm], **shown: object) -> str:
    """The request page: its facts, its moves, its handovers, its messages and its history."""
    db = get_session()
    return render_template(
        "staff/request.html", r=found, forms=forms, handovers=queues.handovers(db, found.id),
        messages=outbox_queries.of_request(db, found.id), **shown,
    )  # fmt: skip


@bp.post("/r/<receipt>/move/<to>")
@roles(*ANYONE)
@declare(form=CancelForm)
def move(receipt: str, to: str) -> Response | tuple[str, int]:
    now, actor = utcnow(), acting()
    db = get_session()
    found = find_request(receipt)
    form = form_for(to)(prefix=to)
    form.point.choices = options((p.id, p.name) for p in point_choices(found, now))
    try:
        if not form.validate_on_submit() or form.to.data != to:
            raise MissingDetails(missing="form", to=to)
        operations.move(
            db, found, Status(form.to.data), actor=actor, now=now, config=current_app.config,
            expected_version=form.version.data, public_note=form.public_note.data or "",
            internal_note=form.internal_note.data or "",
            point=db.get(PickupPoint, form.point.data) if form.point.data else None,
            courier=Courier(form.courier.data or "", form.tracking_ref.data or ""),
        )  # fmt: skip
    except (DomainError, ValueError) as error:
        return _refused(receipt, to, form, error, now)
    flash(_("Saved: the request is now “%(status)s”.", status=_(found.status.label_source)))
    return redirect(url_for("staff.request_page", receipt=found.receipt), 303)


def _refused(
    receipt: str, to: str, form: MoveForm, error: Exception, now: dt.datetime
) -> tuple[str, int]:
    """Show the request as it is now, with the form as it was typed and why it was refused."""
    discard()
    found = find_request(receipt)
    forms = move_forms(found, now)
    if to in {status.value for status in forms}:
        _as_typed(forms[Status(to)], form)
    message = explain(error) if isinstance(error, DomainError) else _("This cannot be done.")
    if form.errors:  # the fields' own messages name them
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    status = 409 if isinstance(error, ConflictError) else 400
    return _page(found, forms, error=message, open=to), status


def _as_typed(shown: MoveForm, typed: MoveForm) -> None:
    """Put what was typed, and each field's errors, back into the form shown."""
    for name in ("public_note", "internal_note", "courier", "tracking_ref", "confirm"):
        if name in shown and name in typed:
            shown[name].data = typed[name].data
    for name in ("public_note", "internal_note", "courier", "tracking_ref", "point", "confirm"):
        if name in shown and name in typed:
            shown[name].errors = list(typed[name].errors)


@bp.get("/r/<receipt>/receipt")
@roles(*ANYONE)
@declare(query=PaperQuery)
def printable(receipt: str) -> Response:
    """The receipt at the counter: a print button, the paper this desk chose last (kept in a
    cookie of the console), and the way to the next applicant."""
    found = find_request(receipt)
    asked = query(PaperQuery).paper.data
    kept = request.cookies.get(PAPER_COOKIE)
    paper = asked if asked in PAPERS else kept if kept in PAPERS else PAPERS[0]
    shown = public.lookup(get_engine(), found.receipt, utcnow())
    page = make_response(render_template("staff/receipt.html", s=shown, paper=paper))
    if asked in PAPERS:
        page.set_cookie(
            PAPER_COOKIE, paper, max_age=365 * 24 * 3600, path="/staff", samesite="Lax",
            httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"],
        )  # fmt: skip
    return page


def _offices() -> list[Office]:
    """The offices an admin may choose between (others see only their own)."""
    if not scope.is_admin(current_user):
        return []
    return list(get_session().scalars(select(Office).order_by(Office.code)))


@bp.get("/")
@roles(*ANYONE)
@declare(query=OfficeQuery)
def home() -> str:
    shown = chosen_scope()
    counts = queues.counts(get_session(), shown)
    late = queues.overdue(get_session(), shown, utcnow())
    return render_template(
        "staff/home.html", counts=counts, late=late, offices=_offices(), office_id=shown.office_id
    )


@bp.get("/queue/<status>")
@roles(*ANYONE)
@declare(query=PageQuery)
def queue(status: str) -> str:
    try:
        chosen = Status(status)
    except ValueError:
        abort(404)
    number = query(PageQuery).page.data or 1
    page = queues.by_status(get_session(), chosen_scope(), chosen, number)
    return render_template("staff/queue.html", status=chosen, page=page)


@bp.get("/overdue")
@roles(*ANYONE)
@declare(query=PageQuery)
def overdue() -> str:
    now = utcnow()
    shown = chosen_scope()
    page = queues.overdue(get_session(), shown, now, query(PageQuery).page.data or 1)
    today = queues.local_today(get_session(), shown, now)
    return render_template("staff/overdue.html", page=page, today=today)


@bp.get("/search")
@roles(*ANYONE)
@declare(query=SearchQuery)
@writes
def search() -> Response | str:
    text = query(SearchQuery).q.data or ""
    db = get_session()
    found = queues.search(db, chosen_scope(), text)
    key = current_app.config["AUDIT_HMAC_KEY"]
    audit_search.record_search(db, text, found, key=key, actor=acting(), at=utcnow())
    if len(found) == 1:
        return redirect(url_for("staff.request_page", receipt=found[0].receipt), 303)
    return render_template("staff/search.html", text=text, found=found)
