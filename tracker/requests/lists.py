"""The console's lists: the home page with counts per status, a status's queue, the overdue
list and search."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.accounts import scope
from tracker.accounts.access import ANYONE, acting, chosen_scope, roles
from tracker.audit import search as audit_search
from tracker.db import get_session, writes
from tracker.models import Office, utcnow
from tracker.requests import queries as queues
from tracker.requests.status import Status
from tracker.web.arguments import declare, query
from tracker.web.console import bp
from tracker.web.forms import OfficeQuery, PageQuery, SearchQuery


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
