"""The counter's pages: handover (find the document by its receipt, pickup number, NIK or
name; see what the collector must show; record who collected it, or show every check still
missing), calling a document to a counter, and bulk moves by scanning (receipts scanned, as
the QR's address or the number, or pasted, are checked line by line and then moved in one
unit of work)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import ANYONE, acting, bp, current_scope, find_request, roles
from tracker.audit import search as audit_search
from tracker.audit import trail as audit
from tracker.audit.search import normalise_name
from tracker.audit.trail import Actor
from tracker.counter import batch
from tracker.counter import operations as counter
from tracker.counter import queries as finding
from tracker.counter.forms import BatchCheckQuery, BatchForm, CallForm, HandoverForm, HandoverQuery
from tracker.db import discard, get_session, writes
from tracker.errors import DomainError, MissingDetails, ReceiptError, RequestNotFound
from tracker.models import CollectorKind, PickupPoint, Request, utcnow
from tracker.places import pickup
from tracker.requests import operations
from tracker.requests.operations import Collector
from tracker.status import N_, Status
from tracker.web.arguments import declare, query
from tracker.web.forms import options
from tracker.web.wording import explain, status_label


def _page(found: Request | None, form: HandoverForm | None = None, **extra: object) -> str:
    call_form = None
    if found is not None:
        if form is None:
            form = HandoverForm(version=found.version)
        call_form = _call_form(found, submitted=False)
    extra.setdefault("office", g.get("chosen_office"))  # an admin's ?office=, kept for the next
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
@declare(query=HandoverQuery)
@writes
def handover_page() -> tuple[str, int] | str:
    """Find the document by receipt, pickup number, NIK or name: one opens, several are
    listed, none is said so."""
    args = query(HandoverQuery)
    g.chosen_office = args.office.data
    text = (args.no.data or "").strip()
    if not text:
        return _page(None)
    typed = finding.read(text)
    if typed.kind != finding.RECEIPT:
        return _by_key(text, typed, args.office.data)
    try:
        found = find_request(text)
    except RequestNotFound as error:
        if finding.looks_like_a_name(text):
            return _by_key(
                text, finding.Typed(finding.NAME, normalise_name(text)), args.office.data
            )
        return _page(None, error=explain(error), typed=text[:80]), error.status
    except ReceiptError as error:
        return _page(None, error=explain(error), typed=text[:80]), error.status
    return _open(found)


def _open(found: Request) -> str:
    audit.record(
        get_session(), "view_request", actor=acting(), at=utcnow(), target=found.receipt,
        at_counter=True,
    )  # fmt: skip
    return _page(found)


def _by_key(text: str, typed: finding.Typed, office: int | None) -> str:
    """The documents a pickup number, NIK or name finds; a search for an NIK or a name is
    audited as the console's search is (its text kept only as a keyed hash)."""
    db = get_session()
    found = finding.find(db, current_scope(office), typed)
    if typed.kind in (finding.NIK, finding.NAME):
        key = current_app.config["AUDIT_HMAC_KEY"]
        audit_search.record_search(db, text, found.rows, key=key, actor=acting(), at=utcnow())
    if len(found.rows) == 1:
        return _open(found.rows[0])
    if not found.rows:
        return _page(None, error=_nothing(typed), typed=text[:80])
    return _page(None, candidates=found.rows, typed=text[:80])


def _nothing(typed: finding.Typed) -> str:
    """What was searched, when it found nothing."""
    if typed.kind == finding.PICKUP:
        return _(
            "No document waiting at the pickup points you see has the pickup number %(number)s.",
            number=typed.value,
        )
    if typed.kind == finding.NIK:
        return _("No request in the offices you see has the NIK %(nik)s.", nik=typed.value)
    return _(
        "No request in the offices you see has a name containing “%(name)s”.", name=typed.value
    )


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
        )  # fmt: skip
    except DomainError as error:
        discard()
        fresh = find_request(receipt)
        form.version.data = fresh.version
        return _page(fresh, form, error=_refusal(form, error)), error.status
    flash(_("Handed over: %(number)s is collected.", number=found.pickup_number or ""))
    return redirect(url_for("staff.handover_page"), 303)


# Where each missing thing is shown on the handover form.
_BESIDE = {
    "id_checked": ("id_checked",),
    "representative_not_allowed": ("collector",),
    "representative": ("collector_name", "relation"),
    "attorney": ("attorney_checked",),
}


def _refusal(form: HandoverForm, error: DomainError) -> str:
    """Why "Mark collected" was refused: every missing thing beside its field at once, and
    a line above the form that says so."""
    problems = error.details.get("problems") if isinstance(error, MissingDetails) else None
    if not problems:
        return explain(error)
    for code in problems:
        names = _BESIDE.get(code, ())
        if code == "representative":
            names = tuple(n for n in names if not (form[n].data or "").strip()) or names
        for name in names:
            form[name].errors = [*form[name].errors, explain(MissingDetails(missing=code))]
    if len(problems) == 1:
        return _("The document was not handed over: see what is missing below.")
    return _(
        "The document was not handed over: %(count)d things to do, each shown below.",
        count=len(problems),
    )


STATES = {
    batch.OK: N_("Fine"),
    batch.MISTYPED: N_("Mistyped: check the number"),
    batch.NOT_FOUND: N_("No request has this number"),
    batch.OTHER_OFFICE: N_("From another office"),
    batch.NOT_ALLOWED: N_("Cannot make this move now"),
    batch.REPEATED: N_("Already in the list"),
}


def _form(now: dt.datetime) -> BatchForm:
    form = BatchForm()
    form.to.choices = options((s.value, _(s.label_source)) for s in batch.BATCH_MOVES)
    if not form.to.data:
        form.to.data = Status.READY.value
    points = pickup.choices(get_session(), current_user.office_id, now)
    form.point.choices = options((p.id, p.name) for p in points)
    return form


def _point(form: BatchForm) -> PickupPoint | None:
    return get_session().get(PickupPoint, form.point.data) if form.point.data else None


def describe(line: batch.Line) -> dict[str, str]:
    text = _(STATES[line.state])
    state = line.state
    if line.state == batch.NOT_ALLOWED:
        text = f"{text} ({status_label(line.status)})"
    if line.own_point is not None:
        state = "elsewhere"
        text = _(
            "Fine, but the citizen chose %(point)s: you choose where it waits before moving.",
            point=line.own_point.name,
        )
    return {"typed": line.typed, "receipt": line.receipt, "state": state, "message": text}


def _choices(form: BatchForm) -> dict[str, bool]:
    """The batch page's choices: receipt -> True to keep a document at the citizen's point."""
    return {
        receipt: where == "own"
        for receipt, _sep, where in (value.rpartition(":") for value in form.choice.data or [])
    }


@bp.get("/batch")
@roles(*ANYONE)
@declare()
def batch_page() -> str:
    return render_template("staff/batch.html", form=_form(utcnow()), lines=[])


@bp.get("/batch/check")
@roles(*ANYONE)
@declare(query=BatchCheckQuery)
def batch_check() -> Response:
    """One scanned line's state, for the page's script to show at once."""
    args = query(BatchCheckQuery)
    to = args.to.data or Status.READY.value
    if to not in {s.value for s in batch.BATCH_MOVES}:
        to = Status.READY.value
    point = get_session().get(PickupPoint, args.point.data) if args.point.data else None
    if point is not None and not scope.sees(current_user, point.office_id):
        point = None
    typed = args.no.data or ""
    line = batch.check(get_session(), current_user, [typed], Status(to), point)[0]
    _audit_refusals([line], acting(), utcnow())
    return jsonify(describe(line))


def _audit_refusals(lines: list[batch.Line], actor: Actor, now: dt.datetime) -> None:
    """The lines of another office, in the audit trail's own unit of work (the caller has
    discarded its own)."""
    for line in lines:
        if line.state == batch.OTHER_OFFICE:
            audit.record_apart(
                "denied", actor=actor, at=now, target=line.receipt, attempted="batch"
            )


@bp.post("/batch")
@roles(*ANYONE)
@declare(form=BatchForm)
def batch_move() -> Response | tuple[str, int]:
    now, actor = utcnow(), acting()
    form = _form(now)
    typed = batch.lines_of(form.receipts.data or "")
    if not form.validate_on_submit() or not typed:
        return render_template("staff/batch.html", form=form, lines=[]), 400
    db = get_session()
    to = Status(form.to.data)
    keep = _choices(form)
    try:
        lines = batch.move(
            db, current_user, typed, to, actor=actor, now=now, config=current_app.config,
            point=_point(form), keep=keep,
        )  # fmt: skip
        if form.everyone.data and (open_lines := batch.undecided(lines, keep)):
            keep |= {line.receipt: form.everyone.data == "own" for line in open_lines}
            lines = batch.move(
                db, current_user, typed, to, actor=actor, now=now, config=current_app.config,
                point=_point(form), keep=keep,
            )  # fmt: skip
    except DomainError as error:
        discard()
        return render_template("staff/batch.html", form=form, lines=[], error=explain(error)), 400
    if any(line.blocks for line in lines):
        discard()
        _audit_refusals(lines, actor, now)
        shown = [describe(line) for line in lines]
        return render_template("staff/batch.html", form=form, lines=shown), 409
    if asked := batch.undecided(lines, keep):
        discard()
        return render_template(
            "staff/batch.html", form=form, lines=[], asked=asked, batch_point=_point(form)
        ), 409
    moved = [line.receipt for line in lines if line.ok]
    audit.record(db, "batch", actor=actor, at=now, to=to.value, count=len(moved))
    flash(_("%(count)d requests moved to “%(status)s”.", count=len(moved), status=status_label(to)))
    if dropped := sum(line.dropped for line in lines):
        flash(_("%(count)d repeated scans were dropped.", count=dropped))
    # The list to print and write on the documents: each receipt with its pickup number.
    done = batch.moved(db, moved)
    return render_template("staff/batch_done.html", done=done, to=to)
