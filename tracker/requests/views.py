"""The citizen's pages: the look-up form, the status page, the QR code and the printable receipt."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from tracker import receipts
from tracker.audit.trail import Actor
from tracker.db import get_read_engine, get_session
from tracker.errors import ReceiptError, ReceiptMistyped
from tracker.extensions import csrf, lookup_rate
from tracker.models import utcnow
from tracker.outbox import operations as outbox
from tracker.requests import calendar, public
from tracker.web.arguments import declare, query
from tracker.web.edge import CleanText, Form, PaperQuery, QueryForm
from tracker.web.wording import explain

bp = Blueprint("lookup", __name__)

QR_CACHE = "private, max-age=31536000, immutable"


class StatusQuery(QueryForm):
    """``?berhenti=1``: the status page just after the citizen stopped the messages;
    ``?pesan=1``: just after they turned them back on."""

    berhenti = StringField(validators=[CleanText(), Optional(), Length(max=5)])
    pesan = StringField(validators=[CleanText(), Optional(), Length(max=5)])


class CheckQuery(StatusQuery):
    no = StringField(_l("Receipt number"), [CleanText(), Optional(), Length(max=200)])


@bp.get("/")
@declare()
def index() -> str:
    return render_template("lookup/index.html")


@bp.get("/cek")
@lookup_rate
@declare(query=CheckQuery)
def check() -> tuple[str, int] | str:
    typed = query(CheckQuery).no.data or ""
    return _status_or_error(typed, template="lookup/status.html", usual=True)


@bp.get("/s/<receipt>")
@lookup_rate
@declare(query=StatusQuery)
def status(receipt: str) -> tuple[str, int] | str:
    return _status_or_error(receipt, template="lookup/status.html", usual=True)


@bp.get("/s/<receipt>/receipt")
@lookup_rate
@declare(query=PaperQuery)
def printable(receipt: str) -> tuple[str, int] | str:
    return _status_or_error(receipt, template="lookup/receipt.html")


class StopForm(Form):
    """The second step of stopping messages: ``yakin=1`` with the CSRF token."""

    yakin = StringField(validators=[CleanText(), Optional(), Length(max=5)])


@bp.post("/s/<receipt>/berhenti")
@csrf.exempt  # the first step only asks; the second checks the token itself
@lookup_rate
@declare(form=StopForm)
def stop_messages(receipt: str) -> Response | tuple[str, int] | str:
    """The citizen opts out of messages in two steps, both POST: the first asks to confirm
    (and changes nothing), the second, with ``yakin`` and the CSRF token, stops them and
    cancels what still waits in the outbox."""
    confirmed = request.form.get("yakin", "")
    if confirmed != "1":
        asked = _status_or_error(receipt, template="lookup/stop.html")
        return (asked, 400) if confirmed and isinstance(asked, str) else asked
    csrf.protect()
    number = _parsed(receipt)
    if not outbox.opt_out(get_session(), number, actor=_citizen(), now=utcnow()):
        abort(404)
    return redirect(url_for("lookup.status", receipt=number, berhenti=1), 303)


@bp.post("/s/<receipt>/pesan-lagi")
@lookup_rate
@declare()
def resume_messages(receipt: str) -> Response:
    """The citizen turns messages back on, by the channel chosen at intake."""
    number = _parsed(receipt)
    if not outbox.opt_in(get_session(), number, actor=_citizen(), now=utcnow()):
        abort(404)
    return redirect(url_for("lookup.status", receipt=number, pesan=1), 303)


def _parsed(receipt: str) -> str:
    try:
        return receipts.parse(receipt)
    except ReceiptMistyped:
        abort(404)


def _citizen() -> Actor:
    """The holder of the receipt number, from their address, for the audit trail."""
    return Actor("citizen", request.remote_addr or "")


@bp.get("/s/<receipt>/pickup.ics")
@lookup_rate
@declare()
def pickup_calendar(receipt: str) -> Response:
    """The pickup window as a calendar entry; 404 while the document has no window."""
    try:
        found = public.lookup(get_read_engine(), receipt, utcnow())
    except ReceiptError:
        abort(404)
    if found.window_starts is None or found.window_ends is None or not found.status.is_collectable:
        abort(404)
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "siapambil"
    entry = calendar.pickup_entry(found, current_app.config["SECRET_KEY"], host)
    answer = Response(entry, mimetype="text/calendar")
    name = "pickup-window" if found.language == "en" else "jadwal-pengambilan"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    return answer


@bp.get("/s/<receipt>/qr.svg")
@declare()
def qr(receipt: str) -> Response:
    """The receipt's QR code. It is made from the number alone (no database read, so it tells
    nothing about whether a request exists) and never changes, so browsers may keep it."""
    return _qr_file(receipt, receipts.qr_svg, "image/svg+xml")


@bp.get("/s/<receipt>/qr.png")
@declare()
def qr_png(receipt: str) -> Response:
    """The same QR code as a PNG, for what cannot take an SVG (a message's image, a printer's
    own software)."""
    return _qr_file(receipt, receipts.qr_png, "image/png")


def _qr_file(receipt: str, draw: Callable[[str], bytes], mimetype: str) -> Response:
    try:
        number = receipts.parse(receipt)
    except ReceiptMistyped:
        abort(404)
    drawn = draw(receipts.status_url(current_app.config["PUBLIC_BASE_URL"], number))
    response = Response(drawn, mimetype=mimetype)
    response.headers["Cache-Control"] = QR_CACHE
    response.set_etag(hashlib.sha256(drawn).hexdigest()[:32])
    return response.make_conditional(request)


def _status_or_error(typed: str, template: str, usual: bool = False) -> tuple[str, int] | str:
    """``template`` with what the public may see of the request typed (with the office's
    usual days if ``usual``: the status page shows them), or the look-up form saying why not."""
    kept = public.kept_usual_days() if usual else None
    try:
        found = public.lookup(get_read_engine(), typed, utcnow(), kept)
    except ReceiptError as error:
        return render_template(
            "lookup/index.html", error=explain(error), typed=typed[:40], code=error.code
        ), error.status
    return render_template(template, s=found)
